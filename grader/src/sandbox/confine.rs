//! What the program's process gives up between `fork` and `exec`: its uid (for the program's
//! own), every capability, the right to gain any back, most of the environment, and the
//! system calls of the deny filter.
//!
//! The order matters: the self-mapped tier's program enters its own user namespace first (a
//! new user namespace starts with every capability, a full bounding set and the default
//! securebits); the capability bounding set and the securebits need `CAP_SETPCAP`, so
//! they go next; then the uid changes (which, from the namespace's root, also clears the
//! permitted and effective sets); then whatever capabilities are left are cleared explicitly
//! (the self-mapped tier keeps its uid, and with it its capabilities, until then); then
//! `no_new_privs`, which seccomp requires; the filter last, so that nothing above is refused.

use std::ffi::CString;

use nix::errno::Errno;
use nix::unistd::{Gid, Uid, setresgid, setresuid};

use super::seccomp;

/// The program's whole environment, apart from `HOME` (its scratch directory). Nothing of the
/// grader's reaches it: not its secrets, not `RUST_BACKTRACE` (which would make every panic,
/// and so every unfinished stub, walk its debug info: issue 7 measured grading 15 times slower).
pub const ENVIRONMENT: [&str; 2] = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"];

/// The program's identity and surroundings, decided by the sandbox before it forks.
#[derive(Clone, Debug)]
pub struct Confinement {
    /// The uid and gid the program runs as, as the sandbox's user namespace numbers them (the
    /// one init is in); `None` in host mode, where it keeps the grader's.
    pub ids: Option<(u32, u32)>,
    /// The self-mapped tier: the program's uid and gid in a user namespace of its own, nested
    /// in the sandbox's, where they stand for `ids` (see `userns.rs`).
    pub own_namespace: Option<(u32, u32)>,
    /// Its working directory, which is also its `HOME`.
    pub scratch: CString,
    /// Its environment, `KEY=value`.
    pub environment: Vec<CString>,
}

impl Confinement {
    pub fn new(ids: Option<(u32, u32)>, scratch: &str) -> Self {
        let environment = ENVIRONMENT
            .iter()
            .map(|variable| (*variable).to_owned())
            .chain([format!("HOME={scratch}")])
            .map(|variable| CString::new(variable).unwrap_or_default())
            .collect();
        Confinement {
            ids,
            own_namespace: None,
            scratch: CString::new(scratch).unwrap_or_default(),
            environment,
        }
    }

    /// The self-mapped tier: the program runs as `ids` in a user namespace of its own.
    pub fn in_own_namespace(self, ids: Option<(u32, u32)>) -> Self {
        Confinement {
            own_namespace: ids,
            ..self
        }
    }

    /// Numbers a segment's owner and creator as the program's user namespace does (init reads
    /// the table in the sandbox's, where the self-mapped tier's program is uid 0).
    pub fn as_the_program_sees(&self, entry: &mut crate::proc_shm::ShmEntry) {
        let (Some((uid, gid)), Some((own_uid, own_gid))) = (self.ids, self.own_namespace) else {
            return;
        };
        for (id, from, to) in [
            (&mut entry.uid, uid, own_uid),
            (&mut entry.cuid, uid, own_uid),
            (&mut entry.gid, gid, own_gid),
            (&mut entry.cgid, gid, own_gid),
        ] {
            if *id == from {
                *id = to;
            }
        }
    }

    /// Run in the program's forked child, last before `exec` (and before the lens's own
    /// filter, which needs the `no_new_privs` set here).
    pub fn enter(&self) -> nix::Result<()> {
        if let (Some(outside), Some(inside)) = (self.ids, self.own_namespace) {
            super::userns::enter_mapped(inside, outside).map_err(|error| {
                error
                    .downcast_ref::<std::io::Error>()
                    .and_then(std::io::Error::raw_os_error)
                    .map(Errno::from_raw)
                    .or_else(|| error.downcast_ref::<Errno>().copied())
                    .unwrap_or(Errno::EPERM)
            })?;
        }
        drop_capability_bounds()?;
        if let Some((uid, gid)) = self.own_namespace.or(self.ids) {
            let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
            setresgid(gid, gid, gid)?;
            setresuid(uid, uid, uid)?;
            // The uid change made the process non-dumpable, which would keep init (the
            // tracer, whose capabilities are the user namespace's, not the machine's) from
            // seizing it before exec. Exec makes it dumpable again anyway.
            nix::sys::prctl::set_dumpable(true)?;
        }
        clear_capabilities()?;
        nix::sys::prctl::set_no_new_privs()?;
        nix::unistd::chdir(self.scratch.as_c_str())?;
        seccomp::install_deny_filter()
    }
}

/// While alive, the calling process (init) acts as the program's uid and gid (its effective
/// ids; the real and saved ones keep it able to come back).
pub struct ActingAsProgram {
    uid: Uid,
    gid: Gid,
}

impl Confinement {
    /// Takes the program's effective uid and gid until the returned guard is dropped; nothing
    /// in host mode, where the program keeps the grader's.
    pub fn act_as_program(&self) -> anyhow::Result<Option<ActingAsProgram>> {
        use anyhow::Context;
        let Some((uid, gid)) = self.ids else {
            return Ok(None);
        };
        let unchanged_uid = Uid::from_raw(u32::MAX);
        let unchanged_gid = Gid::from_raw(u32::MAX);
        let guard = ActingAsProgram {
            uid: nix::unistd::geteuid(),
            gid: nix::unistd::getegid(),
        };
        // The gid first: changing the euid away from root clears the effective capabilities.
        setresgid(unchanged_gid, Gid::from_raw(gid), unchanged_gid)
            .context("Failed to take the program's gid")?;
        setresuid(unchanged_uid, Uid::from_raw(uid), unchanged_uid)
            .context("Failed to take the program's uid")?;
        Ok(Some(guard))
    }
}

impl Drop for ActingAsProgram {
    fn drop(&mut self) {
        // Back to root of the namespace: the effective capabilities come back from the
        // permitted set, which the real and saved uid 0 kept. Then the gid, which needs them.
        let _ = setresuid(Uid::from_raw(u32::MAX), self.uid, Uid::from_raw(u32::MAX));
        let _ = setresgid(Gid::from_raw(u32::MAX), self.gid, Gid::from_raw(u32::MAX));
        // Changing credentials cleared init's parent-death signal: ask again. (Should the
        // worker die in between, the run still ends by itself, at its steps' timeouts.)
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    }
}

/// Every capability gone and none to regain, for a process that keeps its uid (the build
/// jail's command, uid 0 of its namespace: `SECBIT_NOROOT` makes that an ordinary uid).
pub(crate) fn drop_privileges() -> nix::Result<()> {
    drop_capability_bounds()?;
    clear_capabilities()?;
    nix::sys::prctl::set_no_new_privs()
}

/// `prctl` options and bits the libc crate does not name on every target.
const PR_CAP_AMBIENT: libc::c_int = 47;
const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_ulong = 4;
const PR_CAPBSET_DROP: libc::c_int = 24;
const PR_SET_SECUREBITS: libc::c_int = 28;
const CAP_SETPCAP: u32 = 8;
/// `SECBIT_NOROOT` (uid 0 gains no capability at `exec`), `SECBIT_NO_CAP_AMBIENT_RAISE`,
/// `SECBIT_KEEP_CAPS` left off, each with its `_LOCKED` bit so that nobody can undo it.
const SECUREBITS: libc::c_ulong = (1 << 0) | (1 << 1) | (1 << 5) | (1 << 6) | (1 << 7);

/// Empties the ambient set and, when the process may (`CAP_SETPCAP`), the bounding set, and
/// locks the securebits: no `exec` can give a capability back. Without `CAP_SETPCAP` (host mode
/// as an ordinary user) there is nothing to drop, and `no_new_privs` keeps it so.
fn drop_capability_bounds() -> nix::Result<()> {
    // SAFETY: prctl with integer arguments only.
    Errno::result(unsafe { libc::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) })?;
    if effective_capabilities()? & (1 << CAP_SETPCAP) == 0 {
        return Ok(());
    }
    // SAFETY: as above.
    Errno::result(unsafe { libc::prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0) })?;
    for capability in 0..64 {
        // SAFETY: as above. EINVAL past the kernel's last capability.
        match Errno::result(unsafe { libc::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) }) {
            Ok(_) => {}
            Err(Errno::EINVAL) => break,
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

/// `struct __user_cap_header_struct` and `__user_cap_data_struct` (version 3: two of them).
#[repr(C)]
struct CapabilityHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapabilityData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

fn effective_capabilities() -> nix::Result<u64> {
    let mut header = CapabilityHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapabilityData::default(); 2];
    // SAFETY: capget writes two data structs for version 3, which `data` holds.
    Errno::result(unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) })?;
    Ok(u64::from(data[0].effective) | (u64::from(data[1].effective) << 32))
}

/// Empties the effective, permitted and inheritable sets.
fn clear_capabilities() -> nix::Result<()> {
    let mut header = CapabilityHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapabilityData::default(); 2];
    // SAFETY: capset reads the header and two data structs for version 3.
    Errno::result(unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) }).map(drop)
}
