//! Where the kernel refuses `ptrace` (a container's seccomp profile, Yama), the run goes on
//! untraced and says why. Forced with `SHMLAB_SANDBOX_TRACE=refuse`, which the sandbox inherits:
//! a test binary of its own, so no other test runs under it.

mod sandbox_common;

use grader::sandbox::TRACE_ENV;
use grader::scenario::{Exit, Injection, SyscallKind};
use sandbox_common::{run_once, shell};

#[test]
fn a_refused_tracer_gives_no_trace_and_says_why() {
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var(TRACE_ENV, "refuse") };
    let mut scenario = shell(&["echo still runs"]);
    // Nothing can be injected without the tracer: the program runs as it would.
    scenario.lens.inject = vec![Injection::every(SyscallKind::Write, libc::EIO)];
    let observation = run_once(&scenario);
    let why = observation.untraced.as_deref().expect("a reason");
    assert!(why.contains("ptrace(PTRACE_SEIZE) was refused"), "{why}");
    assert!(observation.steps[0].trace.is_none());
    assert!(observation.injected.is_empty());
    assert_eq!(observation.steps[0].exit, Exit::Code(0));
    assert_eq!(observation.steps[0].stdout.text, "still runs\n");
}
