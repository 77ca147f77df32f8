//! Snapshot and restore (Lambda SnapStart): `before_snapshot()` and `after_restore()`, against
//! the harness. A restore is simulated by calling the hooks; "two environments restored from
//! one snapshot" by two `fork` system calls made directly (glibc's `fork()` would run the
//! library's `pthread_atfork` handler, which a restore does not).
//!
//! The restore epoch is process-wide, so the tests of this file run one at a time
//! ([`serial`]). Run through `scripts/with-harness cargo test -p starfleet-secrets --test
//! snapshot_restore`.

mod support;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::json;
use starfleet_secrets::zeroing::ZeroingAlloc;
use starfleet_secrets::{runtime, source, Options, Path, SecretsManager, Ttl};
use support::*;

/// The zeroize test's allocator (off until a manager resolves `zeroize_before_snapshot`).
#[global_allocator]
static ALLOC: ZeroingAlloc = ZeroingAlloc;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn manager(name: &str, ttl: Ttl, timeout: Duration) -> SecretsManager {
    SecretsManager::new(Options {
        ttl: Some(ttl),
        timeout: Some(timeout),
        ..opts(name)
    })
}

fn value(m: &SecretsManager) -> String {
    let secret = runtime::block_on(m.secret()).unwrap();
    secret.get_str(&Path::parse_dotted("v").unwrap()).unwrap().to_owned()
}

/// The child half of [`two_environments_restored_from_one_snapshot_draw_different_shares`]:
/// run alone in a process of its own (no other test's threads), so the raw forks below copy a
/// quiet process.
#[test]
fn restored_shares_child() {
    if std::env::var_os("STARFLEET_TEST_SNAPSHOT_CHILD").is_none() {
        return;
    }
    let m = SecretsManager::new(Options {
        secret_id: Some("s".into()),
        region: Some(REGION.into()),
        ttl: Some(Ttl::For(Duration::from_secs(1_000_000))),
        expiry_jitter: Some(0.9),
        ..Default::default()
    });
    let settings = m.settings().unwrap();
    let before = settings.fresh_for().unwrap();
    let restore = std::env::var_os("STARFLEET_TEST_SKIP_RESTORE").is_none();
    let mut shares = Vec::new();
    for _ in 0..2 {
        let mut fds = [0; 2];
        // SAFETY: a pipe, and a child (one thread, nothing locked: this process runs no
        // other test) that computes, writes 8 bytes and exits without unwinding.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            match libc::syscall(libc::SYS_fork) {
                0 => {
                    if restore {
                        m.after_restore();
                    }
                    let nanos = settings.fresh_for().unwrap().as_nanos() as u64;
                    libc::write(fds[1], nanos.to_le_bytes().as_ptr().cast(), 8);
                    libc::_exit(0);
                }
                pid => {
                    assert!(pid > 0);
                    let mut bytes = [0u8; 8];
                    assert_eq!(libc::read(fds[0], bytes.as_mut_ptr().cast(), 8), 8);
                    libc::waitpid(pid as i32, std::ptr::null_mut(), 0);
                    libc::close(fds[0]);
                    libc::close(fds[1]);
                    shares.push(u64::from_le_bytes(bytes));
                }
            }
        }
    }
    println!("SHARES {} {} {}", before.as_nanos(), shares[0], shares[1]);
}

#[test]
fn two_environments_restored_from_one_snapshot_draw_different_shares() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "restored_shares_child", "--nocapture", "--test-threads=1"])
        .env("STARFLEET_TEST_SNAPSHOT_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().find_map(|l| l.split_once("SHARES ")).expect(&stdout).1;
    let n: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
    // A TTL of 10^6 s shortened by up to 90%: equal shares give equal nanoseconds.
    assert_ne!(n[1], n[2], "both restored environments kept one share: {line}");
    assert_ne!(
        n[0], n[1],
        "the first restored environment kept the snapshot's share: {line}"
    );
    for fresh in &n[1..] {
        assert!(
            *fresh <= 1_000_000_000_000_000 && *fresh >= 100_000_000_000_000,
            "{line}"
        );
    }
}

#[test]
fn after_restore_no_request_goes_on_a_connection_from_before_the_snapshot() {
    let _serial = serial();
    let rt = runtime::get().unwrap();
    let name = unique("restore-conn");
    rt.block_on(create_json(&name, &json!({"v": "old"})));
    // A deadline no other test uses: a client (and pool) of its own.
    let m = manager(&name, Ttl::For(Duration::from_secs(300)), Duration::from_millis(5_300));
    assert_eq!(value(&m), "old");
    rt.block_on(put_json(&name, &json!({"v": "new"})));
    // The snapshot's connections are gone: a request on a reused one goes nowhere.
    rt.block_on(fault(
        &name,
        "hang",
        0,
        json!({"hang_ms": 20_000, "connection": "reused"}),
    ));

    m.after_restore();
    let started = Instant::now();
    assert_eq!(
        value(&m),
        "new",
        "the value from before the snapshot is due after the restore"
    );
    let took = started.elapsed();
    assert!(
        took < source::HEDGE_DELAY,
        "a pooled connection was tried first: {took:?}"
    );
    let stats = m.stats();
    assert_eq!((stats.hedges, stats.failures, stats.restores), (0, 0, 1), "{stats:?}");
    assert_eq!(rt.block_on(get_count(&name)), 2);
    rt.block_on(clear_faults(&name));
}

#[test]
fn a_value_fetched_before_the_snapshot_is_refreshed_once() {
    let _serial = serial();
    let rt = runtime::get().unwrap();
    for ttl in [Ttl::For(Duration::from_secs(300)), Ttl::Forever] {
        let name = unique("restore-once");
        rt.block_on(create_json(&name, &json!({"v": "old"})));
        let m = manager(&name, ttl, Duration::from_secs(10));
        assert_eq!(value(&m), "old");
        rt.block_on(put_json(&name, &json!({"v": "new"})));
        assert_eq!(value(&m), "old", "a hit before the restore");

        m.before_snapshot(); // without zeroize: the value stays
        assert_eq!(value(&m), "old");
        m.after_restore();
        std::thread::scope(|s| {
            let readers: Vec<_> = (0..8).map(|_| s.spawn(|| value(&m))).collect();
            for r in readers {
                assert_eq!(r.join().unwrap(), "new", "{ttl:?}");
            }
        });
        assert_eq!(value(&m), "new");
        assert_eq!(
            rt.block_on(get_count(&name)),
            2,
            "one fetch after the restore ({ttl:?})"
        );
        let stats = m.stats();
        assert_eq!((stats.fetches, stats.restores), (2, 1), "{stats:?}");
    }
}

#[test]
fn after_restore_a_failing_refresh_serves_the_value_within_max_stale_from_the_restore() {
    let _serial = serial();
    let rt = runtime::get().unwrap();
    let name = unique("restore-stale");
    rt.block_on(create_json(&name, &json!({"v": "old"})));
    let m = SecretsManager::new(Options {
        max_stale: Some(Duration::from_secs(60)),
        ..opts(&name)
    });
    assert_eq!(value(&m), "old");
    let no_stale = SecretsManager::new(Options {
        max_stale: Some(Duration::ZERO),
        ..opts(&name)
    });
    assert_eq!(value(&no_stale), "old");
    rt.block_on(fault(&name, "error", 0, json!({"status": 500})));
    m.after_restore();
    assert_eq!(value(&m), "old");
    assert_eq!((m.stats().stale_served, m.stats().failures), (1, 1), "{:?}", m.stats());
    // The other manager's hook was not called: the epoch is the process's, so its value is
    // due too, and without stale-if-error the failure is the answer.
    assert!(runtime::block_on(no_stale.secret()).is_err());
    rt.block_on(clear_faults(&name));
}

#[test]
fn the_hooks_return_at_once_while_a_fetch_hangs() {
    let _serial = serial();
    let rt = runtime::get().unwrap();
    let name = unique("restore-hang");
    rt.block_on(create_json(&name, &json!({"v": "v1"})));
    let m = manager(&name, Ttl::For(Duration::from_secs(300)), Duration::from_millis(4_700));
    rt.block_on(fault(&name, "hang", 1, json!({"hang_ms": 20_000})));
    std::thread::scope(|s| {
        let hung = s.spawn(|| runtime::block_on(m.secret()).map(|_| ()));
        std::thread::sleep(Duration::from_millis(300)); // the fetch is in the black hole
        let started = Instant::now();
        m.before_snapshot();
        m.after_restore();
        let took = started.elapsed();
        assert!(took < Duration::from_millis(100), "the hooks took {took:?}");
        // The fetch caught by the snapshot does not hold up the first read after the restore.
        let started = Instant::now();
        assert_eq!(value(&m), "v1");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert!(!hung.is_finished(), "the hung fetch was still in flight");
        let _ = hung.join();
    });
    rt.block_on(clear_faults(&name));
}

/// The canary, XOR-ed with this mask wherever the test keeps it, so that the only plain
/// copies in the process are the library's.
const MASK: u8 = 0x5a;

/// Every address in this process's readable memory where `masked` (unmasked) starts, except
/// inside `skip` (the scan's own buffer).
fn find_in_memory(masked: &[u8]) -> Vec<(usize, String)> {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let own = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let mut found = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (range, perms) = (fields.next().unwrap(), fields.next().unwrap());
        let what = fields.nth(3).unwrap_or("").to_owned();
        if !perms.starts_with('r') || what == "[vvar]" || what == "[vsyscall]" || what.starts_with("[vvar") {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let (start, end) = (
            usize::from_str_radix(start, 16).unwrap(),
            usize::from_str_radix(end, 16).unwrap(),
        );
        let mut at = start;
        while at < end {
            let len = buf.len().min(end - at);
            if mem.seek(SeekFrom::Start(at as u64)).is_err() {
                break;
            }
            let Ok(n) = mem.read(&mut buf[..len]) else { break };
            if n == 0 {
                break;
            }
            for i in 0..n.saturating_sub(masked.len() - 1) {
                if buf[i] ^ MASK == masked[0]
                    && buf[i..i + masked.len()].iter().zip(masked).all(|(b, m)| b ^ MASK == *m)
                {
                    let address = at + i;
                    if !own.contains(&address) {
                        found.push((address, what.clone()));
                    }
                }
            }
            // Overlap, so a canary across two reads is seen.
            at += n.saturating_sub(masked.len()).max(1);
        }
    }
    found
}

#[test]
fn with_zeroize_no_canary_byte_is_left_after_before_snapshot_and_the_next_read_fetches() {
    let _serial = serial();
    let rt = runtime::get().unwrap();
    let name = unique("restore-zeroize");
    let m = SecretsManager::new(Options {
        zeroize_before_snapshot: Some(true),
        // A deadline no other test uses: a client of its own.
        timeout: Some(Duration::from_millis(6_100)),
        ..opts(&name)
    });
    assert!(m.settings().unwrap().zeroize_before_snapshot);
    assert!(
        starfleet_secrets::zeroing::enabled(),
        "resolving the option switches the allocator on"
    );

    // A canary of 32 random letters, kept masked.
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random).unwrap();
    let masked: Vec<u8> = random.iter().map(|r| (b'A' + r % 26) ^ MASK).collect();
    {
        let plain: String = masked.iter().map(|b| (b ^ MASK) as char).collect();
        rt.block_on(create_json(&name, &json!({"v": plain, "w": "x"})));
    }
    {
        let secret = runtime::block_on(m.secret()).unwrap();
        let got = secret.get_str(&Path::parse_dotted("v").unwrap()).unwrap();
        assert!(got.bytes().zip(&masked).all(|(g, m)| g ^ MASK == *m) && got.len() == masked.len());
    }
    assert!(!find_in_memory(&masked).is_empty(), "the scan finds the cached canary");

    m.before_snapshot();
    let left = find_in_memory(&masked);
    assert!(left.is_empty(), "canary copies left after before_snapshot: {left:x?}");

    let fetches = m.stats().fetches;
    let secret = runtime::block_on(m.secret()).unwrap();
    assert_eq!(secret.get_str(&Path::parse_dotted("w").unwrap()).unwrap(), "x");
    assert_eq!(m.stats().fetches, fetches + 1, "the next read fetched");
    assert_eq!(rt.block_on(get_count(&name)), 2);
}

/// The median of `samples` in milliseconds.
fn median_ms(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

/// What a restore costs, against the harness (HTTPS through the fault proxy): the hooks
/// themselves, and the first read after a restore (a new SDK client, credentials, TCP and TLS
/// handshake, then the call) against a refresh on a pooled connection. Prints a Markdown
/// table; `bench/snapstart/run` writes it to `bench/snapstart/RESULTS.md`.
#[test]
#[ignore = "a measurement: bench/snapstart/run"]
fn restore_costs() {
    let _serial = serial();
    let rt = runtime::get().unwrap();
    const N: usize = 25;
    let name = unique("restore-bench");
    // A 4 KiB document: a typical secret with a certificate or two in it.
    let doc = json!({"v": "x".repeat(4096), "user": "u", "password": "p"});
    rt.block_on(create_json(&name, &doc));
    let off = manager(&name, Ttl::For(Duration::from_secs(300)), Duration::from_millis(7_300));
    let on = SecretsManager::new(Options {
        zeroize_before_snapshot: Some(true),
        ..opts(&name)
    });
    value(&off);
    let (mut restore, mut before_off, mut before_on, mut first, mut pooled) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..N {
        // A pooled refresh: the client and its connection are warm.
        runtime::block_on(off.refresh()).unwrap();
        let t = Instant::now();
        runtime::block_on(off.refresh()).unwrap();
        pooled.push(t.elapsed());

        let t = Instant::now();
        off.before_snapshot();
        before_off.push(t.elapsed());
        let t = Instant::now();
        off.after_restore();
        restore.push(t.elapsed());
        let t = Instant::now();
        value(&off);
        first.push(t.elapsed());

        value(&on);
        let t = Instant::now();
        on.before_snapshot();
        before_on.push(t.elapsed());
    }
    println!("| step | median (ms), {N} runs |");
    println!("| --- | ---: |");
    println!("| `after_restore()` | {:.3} |", median_ms(restore));
    println!("| `before_snapshot()`, zeroize off | {:.3} |", median_ms(before_off));
    println!(
        "| `before_snapshot()`, zeroize on (4 KiB value) | {:.3} |",
        median_ms(before_on)
    );
    println!(
        "| first read after a restore (new client, credentials, TLS handshake, call) | {:.3} |",
        median_ms(first)
    );
    println!("| a refresh on a pooled connection | {:.3} |", median_ms(pooled));
}
