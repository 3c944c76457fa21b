use super::*;

/// Captured on Linux 6.18 in a private IPC namespace: an `IPC_PRIVATE` segment, one with key -1,
/// and one with key 9990 that was attached, filled, then removed (`SHM_DEST`, key reset to 0).
const LINUX_6_18: &str = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
         0          0   666                  1024  7466     0      0     0     0     0     0          0          0 1795331555                     0                     0
        -1          1   600                  4096  7466     0      0     0     0     0     0          0          0 1795331555                     0                     0
         0          2  1644                100000  7466  7466      1     0     0     0     0 1795331555          0 1795331555                102400                     0
";

#[test]
fn parses_a_captured_table() {
    let entries = parse(LINUX_6_18).expect("the captured table parses");
    assert_eq!(entries.len(), 3);
    assert_eq!(
        entries[2],
        ShmEntry {
            key: 0,
            shmid: 2,
            perms: 0o1644,
            size: 100_000,
            cpid: 7466,
            lpid: 7466,
            nattch: 1,
            uid: 0,
            gid: 0,
            cuid: 0,
            cgid: 0,
            atime: 1_795_331_555,
            dtime: 0,
            ctime: 1_795_331_555,
            rss: 102_400,
            swap: 0,
        }
    );
    assert_eq!(entries[1].key, -1);
    assert_eq!(entries[1].permissions(), 0o600);
    assert!(!entries[0].marked_for_destruction());
    assert!(entries[2].marked_for_destruction());
    assert_eq!(entries[2].permissions(), 0o644);
}

#[test]
fn an_empty_namespace_has_only_the_header() {
    let header = LINUX_6_18.lines().next().expect("a header");
    assert_eq!(parse(header).expect("parses"), Vec::new());
    assert_eq!(parse(&format!("{header}\n\n")).expect("parses"), Vec::new());
}

#[test]
fn keys_printed_unsigned_are_read_back_as_signed() {
    let text = "key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime\n\
                4294967295 7 666 10 1 0 0 0 0 0 0 0 0 5\n\
                2147483648 8 666 10 1 0 0 0 0 0 0 0 0 5\n\
                -2147483648 9 666 10 1 0 0 0 0 0 0 0 0 5\n\
                9990 10 666 10 1 0 0 0 0 0 0 0 0 5\n";
    let keys: Vec<i32> = parse(text).expect("parses").iter().map(|e| e.key).collect();
    assert_eq!(keys, [-1, i32::MIN, i32::MIN, 9990]);
}

#[test]
fn large_uids_and_sizes_fit() {
    let text = "key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap\n\
                1 2 1777 18446744073709551615 3 4 5 4294967294 4294967294 65534 65534 -1 0 7 8 9\n";
    let entry = &parse(text).expect("parses")[0];
    assert_eq!(entry.uid, 4_294_967_294);
    assert_eq!(entry.gid, 4_294_967_294);
    assert_eq!(entry.cuid, 65534);
    assert_eq!(entry.size, u64::MAX);
    assert_eq!(entry.perms, 0o1777);
    assert_eq!(entry.permissions(), 0o777);
    assert!(entry.marked_for_destruction());
    assert_eq!((entry.atime, entry.rss, entry.swap), (-1, 8, 9));
}

#[test]
fn old_kernels_without_rss_and_swap_read_as_zero() {
    let text = "       key      shmid perms       size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime\n\
                      9990      32768   666       1024   100     0      0  1000  1000  1000  1000          0          0 1700000000\n";
    let entry = &parse(text).expect("parses")[0];
    assert_eq!(
        (entry.key, entry.shmid, entry.size, entry.uid),
        (9990, 32768, 1024, 1000)
    );
    assert_eq!((entry.rss, entry.swap), (0, 0));
}

#[test]
fn columns_are_found_by_name_not_position() {
    let text = "shmid key size perms cpid lpid nattch uid gid cuid cgid atime dtime ctime\n\
                5 9990 64 644 1 2 3 4 5 6 7 8 9 10\n";
    let entry = &parse(text).expect("parses")[0];
    assert_eq!(
        (entry.shmid, entry.key, entry.size, entry.perms),
        (5, 9990, 64, 0o644)
    );
    assert_eq!((entry.cgid, entry.ctime), (7, 10));
}

#[test]
fn malformed_tables_are_errors_that_say_where() {
    assert!(parse("").is_err());
    let no_key = "shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime\n";
    assert!(format!("{:#}", parse(no_key).expect_err("an error")).contains("\"key\""));
    let header = LINUX_6_18.lines().next().expect("a header");
    let short_row = format!("{header}\n1 2 666\n");
    assert!(format!("{:#}", parse(&short_row).expect_err("an error")).contains("line 2"));
    let bad_perms = "key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime\n\
                     1 2 689 10 1 0 0 0 0 0 0 0 0 5\n";
    assert!(format!("{:#}", parse(bad_perms).expect_err("an error")).contains("octal"));
    let huge_key = "key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime\n\
                    4294967296 2 666 10 1 0 0 0 0 0 0 0 0 5\n";
    assert!(parse(huge_key).is_err());
}

#[test]
fn reads_this_namespace_and_sees_a_new_private_segment() {
    // IPC_PRIVATE: a fresh segment nobody else can collide with; removed before the asserts.
    let id = sysv::shmget(
        sysv::IPC_PRIVATE,
        4000,
        sysv::ShmgetFlag::IPC_CREAT,
        sysv::Mode::from_bits_truncate(0o640),
    )
    .expect("shmget(IPC_PRIVATE)");
    let entries = read();
    sysv::shmctl_rmid(id).expect("IPC_RMID");
    let entries = entries.expect("reads /proc/sysvipc/shm");
    let entry = entries
        .iter()
        .find(|e| e.shmid == id.as_raw())
        .expect("the new segment is listed");
    assert_eq!(
        (entry.key, entry.size, entry.perms, entry.nattch),
        (0, 4000, 0o640, 0)
    );
    assert_eq!(entry.cpid, std::process::id() as i32);
    assert!(
        !read()
            .expect("reads again")
            .iter()
            .any(|e| e.shmid == id.as_raw())
    );
}
