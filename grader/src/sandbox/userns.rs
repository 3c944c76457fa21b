//! The user namespace each sandbox lives in, and the uid its programs get there.
//!
//! Two mappings, one per tier:
//!
//! - **Dedicated range** (the grader is root, [`Tier::Namespaces`](super::Tier)): the machine's
//!   uids and gids [`RANGE_BASE`] … `RANGE_BASE + 65535` appear inside as 0 … 65535. The
//!   sandbox's own processes (init, the tracer) become 0 inside (host uid `RANGE_BASE`), with
//!   every capability *in the namespace* and none on the machine; the program runs as
//!   [`PROGRAM_ID`] inside, host uid `RANGE_BASE + 1000`, with none at all. The machine's root
//!   is not mapped, so nothing inside acts as root on anything of the machine's.
//!
//!   Why `2_000_000_000`: far above login users (1000–60000), systemd's dynamic users
//!   (61184–65519) and the subordinate ranges of `/etc/subuid` (conventionally 100000 in 64 Ki
//!   blocks per user); between systemd's container ranges (524288–1879048191) and its
//!   "foreign" range (2147352576–2147418111); below 2^31, so tools that read uids as signed
//!   numbers still see them right. No file on the machine is owned by these uids, and every
//!   sandbox has its own namespace, so `RLIMIT_NPROC` (counted per user namespace since Linux
//!   5.14) caps each run's processes separately. The parent writes the maps, as only a writer
//!   with `CAP_SETUID` in the parent namespace may map more than its own uid.
//! - **Self-mapping** (an ordinary user, [`Tier::UserNamespace`](super::Tier)): the kernel lets
//!   an unprivileged process map only its own uid and gid, and only after `setgroups` is denied.
//!   Two namespaces, one inside the other, each mapping that one uid:
//!   - the sandbox's ([`enter_self_mapped`]) maps it to uid and gid 0, so that the sandbox's
//!     processes are the root of the run's IPC namespace, which alone may cap its System V
//!     objects (the kernel grants the IPC namespace's `/proc/sys/kernel` knobs to the uid 0 of
//!     the user namespace that owns it);
//!   - the program's own ([`enter_mapped`], between fork and exec) maps it back to
//!     the same number, so that the program runs as the caller's own uid, with no capabilities
//!     there nor in the sandbox's namespace (which owns the IPC namespace). It is still the
//!     same uid on the machine, so the kernel's ownership test of the knobs would let it write
//!     them: what stops it is that `/proc/sys` is mounted read-only and it may not mount
//!     (`tests/sandbox_hostile.rs` checks both tiers).
//!
//!   Its supplementary groups stay (nobody can drop them without `setgroups`). Refused to the
//!   machine's root, whose own uid is the one that must never run a program.

use anyhow::{Context, Result, bail};
use nix::sched::CloneFlags;
use nix::unistd::{Pid, setgroups};

use super::namespaces::{self, IdMap, write_id_maps};

/// The first of the machine's uids (and gids) mapped into a root-tier sandbox.
pub const RANGE_BASE: u32 = 2_000_000_000;
/// How many uids the range maps.
pub const RANGE_SIZE: u32 = 65_536;
/// The program's uid and gid inside a root-tier sandbox (host uid `RANGE_BASE + PROGRAM_ID`).
pub const PROGRAM_ID: u32 = 1000;

/// Writes the dedicated range's maps for `child`, which has just unshared its user namespace.
/// Called by the parent, root on the machine.
pub fn map_range(child: Pid) -> Result<()> {
    let map = IdMap {
        inside: (0, 0),
        outside: (RANGE_BASE, RANGE_BASE),
        count: RANGE_SIZE,
    };
    write_id_maps(&child.to_string(), &map, false)
}

/// In the child, once [`map_range`] is done: becomes uid and gid 0 of the namespace (host
/// `RANGE_BASE`), keeping its capabilities there, and drops the machine's supplementary groups.
pub fn become_range_root() -> Result<()> {
    setgroups(&[]).context("Failed to drop the supplementary groups")?;
    namespaces::become_root()
}

/// The self-mapped tier's sandbox namespace: unshares a user namespace mapping only the
/// caller's own uid and gid, to 0 inside; returns them (the program's ids in its own
/// namespace, [`enter_mapped`]).
pub fn enter_self_mapped() -> Result<(u32, u32)> {
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    if uid.is_root() && super::limits::in_initial_user_namespace() {
        bail!(
            "the self-mapped user namespace would run the program as this machine's root; as root \
             the sandbox maps a dedicated uid range instead"
        );
    }
    enter_mapped((0, 0), (uid.as_raw(), gid.as_raw()))?;
    Ok((uid.as_raw(), gid.as_raw()))
}

/// Unshares a user namespace where `inside` (uid, gid) maps onto the caller's `outside`, the
/// one mapping an unprivileged process may write for itself. The self-mapped tier's program
/// enters one this way (its ids inside, the sandbox's 0 and 0 outside) before it confines
/// itself.
pub fn enter_mapped(inside: (u32, u32), outside: (u32, u32)) -> Result<()> {
    namespaces::unshare(CloneFlags::CLONE_NEWUSER)?;
    let map = IdMap {
        inside,
        outside,
        count: 1,
    };
    write_id_maps("self", &map, true)
}
