//! Fault tests of the output directory (issue 12): a run killed at every moment of the
//! export, a full disk (an injected write error at every file, and a real 1 MB tmpfs where
//! user namespaces allow mounting one), concurrent runs, leftovers, and the hostile settings
//! and locations that used to cost a whole computation or the machine. After each, the output
//! directory holds one complete run and `output::check` (`build_cells --check-output`) says so.
//!
//! They run the `build_cells` and `assign_cells` examples (built by `cargo test`) as child
//! processes on a small public fixture (GeoNames places in Belgium and Luxembourg with their
//! Natural Earth admin-1 areas; `data/fixtures/matrix/`), a fraction of a second a run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use geocells::OutputCheck;

use geocells::check_output as check;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An example binary next to this test's (`target/<profile>/examples/<name>`).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let p = dir.join("examples").join(name);
    assert!(
        p.is_file(),
        "{} is missing: `cargo test` builds the examples",
        p.display()
    );
    p
}

fn fixture(name: &str) -> PathBuf {
    root().join("data/fixtures/matrix").join(name)
}

/// `build_cells` on the Benelux fixture into `out`, with `extra` arguments.
fn build(out: &Path, extra: &[&str]) -> Command {
    build_on(&fixture("belux_geonames.csv"), out, extra)
}

/// The Benelux places plus three rows that are rejected (text, out of range, missing).
fn points_with_bad_rows(dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(fixture("belux_geonames.csv")).expect("fixture");
    text.push_str("900001,abc,50.5\n900002,4.5,95\n900003,,50.1\n");
    let p = dir.join("points_with_bad_rows.csv");
    std::fs::write(&p, text).expect("write");
    p
}

/// `build_cells` on `points` and the Benelux admin-1 areas into `out`.
fn build_on(points: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(example("build_cells"));
    c.current_dir(root())
        .arg("--quiet")
        .arg("--points")
        .arg(points)
        .arg("--admin1")
        .arg(fixture("belux_admin1.geojson"))
        .args(["--no-admin0", "--no-admin2", "--out"])
        .arg(out)
        .args(extra);
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("spawn")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("geocells-faults-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// The check of a directory that must hold one complete run.
fn complete(dir: &Path) -> OutputCheck {
    let c = check(dir).expect("check");
    assert!(c.is_consistent(), "{}: {:?}", dir.display(), c.problems);
    assert_eq!(c.status.as_deref(), Some("complete"), "{c:?}");
    assert_eq!(c.files.len(), 8, "{c:?}");
    c
}

/// Starts `c` with `GEOCELLS_TEST_FAULT=pause:<stage>`, waits until it has paused there and
/// kills it (SIGKILL).
fn kill_at(mut c: Command, stage: &str) {
    let mut child = c
        .env("GEOCELLS_TEST_FAULT", format!("pause:{stage}"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let paused = line.contains("GEOCELLS_TEST_FAULT: paused at");
            let _ = tx.send(line);
            if paused {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains("paused at") => break,
            Ok(line) => seen.push(line),
            Err(_) => {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("the run ended ({status}) before pausing at {stage}: {seen:?}");
                }
                assert!(Instant::now() < deadline, "no pause at {stage}: {seen:?}");
            }
        }
    }
    child.kill().expect("kill");
    let _ = child.wait();
}

/// The moments of the output sequence (`geocells::files::Hook`), in order: the lock taken,
/// each file staged (`RUN_FILES` is in the order of writing), between the swap's renames.
fn stages() -> Vec<&'static str> {
    let mut s = vec!["lock"];
    s.extend(geocells::RUN_FILES);
    s.push("swap");
    s
}

#[test]
fn a_run_killed_at_any_moment_leaves_the_previous_complete_run() {
    let base = tmp("kill");
    let out = base.join("out");
    assert!(run(build(&out, &[])).status.success());
    let first = complete(&out);
    let id = first.run_id.clone().expect("run id");
    for stage in stages() {
        // Other settings, so that a mix of the two runs would show as two run ids.
        kill_at(build(&out, &["--max", "90"]), stage);
        if stage == "swap" {
            // Killed between the two renames: the directory is briefly absent and says so;
            // the check's recovery (as the next run's) puts the previous run back.
            let c = check(&out).expect("check");
            assert!(!c.is_consistent());
            assert!(
                c.problems[0].contains("killed while swapping"),
                "{:?}",
                c.problems
            );
            let notes = geocells::recover_output(&out).expect("recover");
            assert!(notes[0].contains("restored the previous run"), "{notes:?}");
        }
        let c = complete(&out);
        assert_eq!(
            c.run_id.as_deref(),
            Some(id.as_str()),
            "after a kill at {stage}"
        );
        assert_eq!(c.files, first.files, "after a kill at {stage}");
    }
    // The next run removes what the killed ones left and swaps its own files in.
    let o = run(build(&out, &["--max", "90"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let c = complete(&out);
    assert_ne!(c.run_id.as_deref(), Some(id.as_str()));
    assert!(c.leftovers.is_empty(), "{:?}", c.leftovers);
    let names: Vec<String> = std::fs::read_dir(&base)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "only out/ and its lock remain: {names:?}");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_write_error_at_any_file_leaves_the_previous_complete_run() {
    let base = tmp("enospc");
    let out = base.join("out");
    assert!(run(build(&out, &[])).status.success());
    let first = complete(&out);
    for stage in &stages()[1..] {
        let mut c = build(&out, &["--max", "90"]);
        c.env("GEOCELLS_TEST_FAULT", format!("fail:{stage}"));
        let o = run(c);
        assert!(
            !o.status.success(),
            "a failed write must fail the run ({stage})"
        );
        let e = stderr(&o);
        assert!(e.contains("No space left on device"), "{stage}: {e}");
        assert!(e.contains(stage), "the error names the file ({stage}): {e}");
        let c = complete(&out);
        assert_eq!(c.run_id, first.run_id, "after a write error at {stage}");
        assert!(c.leftovers.is_empty(), "{stage}: {:?}", c.leftovers);
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// A real full disk: a 1 MB tmpfs (one Benelux run needs about 0.65 MB, so the second run's
/// staging directory cannot fit beside the first run), mounted in a user namespace. Where
/// `unshare` cannot mount one (no user namespaces), the test says so and checks nothing more;
/// the injected write errors above cover every file.
#[test]
fn a_full_disk_leaves_the_previous_complete_run() {
    let probe = Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: no user namespace with tmpfs here (unshare -rm failed)");
        return;
    }
    let base = tmp("tmpfs");
    let mnt = base.join("mnt");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let cmd = |extra: &[&str]| {
        let c = build(&mnt.join("out"), extra);
        let mut line = vec![c.get_program().to_string_lossy().into_owned()];
        line.extend(c.get_args().map(|a| format!("'{}'", a.to_string_lossy())));
        line.join(" ")
    };
    let check = format!(
        "{} --check-output {}",
        example("build_cells").display(),
        mnt.join("out").display()
    );
    let script = format!(
        "set -u; mount -t tmpfs -o size=1000k none {mnt}; cd {root}; \
         {first} >/dev/null || exit 10; {check} >/dev/null || exit 11; \
         {second} >/dev/null 2>{base}/second.err; echo \"second=$?\"; \
         {check} >{base}/check.out 2>&1; echo \"check=$?\"; ls -a {mnt}",
        mnt = mnt.display(),
        root = root().display(),
        base = base.display(),
        first = cmd(&[]),
        second = cmd(&["--max", "90", "--top-k", "40"]),
    );
    let o = Command::new("unshare")
        .args(["-rm", "bash", "-c", &script])
        .output()
        .expect("unshare");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text} {}", stderr(&o));
    let err = std::fs::read_to_string(base.join("second.err")).unwrap_or_default();
    let report = std::fs::read_to_string(base.join("check.out")).unwrap_or_default();
    assert!(
        text.contains("second=1"),
        "the second run must fail: {text} {err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(text.contains("check=0"), "{text}\n{report}");
    assert!(report.contains("OK: one complete run"), "{report}");
    assert!(
        !text.contains("staging"),
        "no staging left on the full disk: {text}"
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_second_run_on_the_same_output_is_refused_while_the_first_writes() {
    let base = tmp("concurrent");
    let out = base.join("out");
    assert!(run(build(&out, &[])).status.success());
    let first = complete(&out);
    // Deterministic: the first run holds the lock (paused), the second is refused at once.
    let mut a = build(&out, &["--max", "90"]);
    let mut child = a
        .env("GEOCELLS_TEST_FAULT", "pause:points.parquet")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.contains("paused at") {
        line.clear();
        assert!(err.read_line(&mut line).expect("read") > 0, "no pause");
    }
    let t = Instant::now();
    let o = run(build(&out, &["--max", "120"]));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("another geocells run (pid "), "{e}");
    assert!(
        e.contains(&format!("pid {}", child.id())),
        "names the holder: {e}"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "refused at once");
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(complete(&out).run_id, first.run_id);
    // Racing: two runs started together, 10 rounds. Each round ends with one complete run
    // of one of the two, and a run that lost the race says why.
    for round in 0..10 {
        let max = ["--max", if round % 2 == 0 { "70" } else { "80" }];
        let a = build(&out, &["--max", "100"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let b = build(&out, &max)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let (oa, ob) = (
            a.wait_with_output().expect("a"),
            b.wait_with_output().expect("b"),
        );
        for o in [&oa, &ob] {
            if !o.status.success() {
                assert!(stderr(o).contains("another geocells run"), "{}", stderr(o));
            }
        }
        assert!(oa.status.success() || ob.status.success(), "round {round}");
        complete(&out);
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn leftovers_and_stale_files_do_not_survive_a_run() {
    let base = tmp("stale");
    let out = base.join("out");
    // A run with rejects, then one without: no stale rejects.parquet.
    let o = run(build_on(&points_with_bad_rows(&base), &out, &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let with_rejects = complete(&out);
    let rows = |c: &OutputCheck| {
        c.files
            .iter()
            .find(|f| f.0 == "rejects.parquet")
            .and_then(|f| f.2)
    };
    assert_eq!(rows(&with_rejects), Some(3));
    // A temporary file of an older version's killed write, inside the directory.
    std::fs::write(out.join(".points.parquet.tmp-99999"), b"half").expect("write");
    let o = run(build(&out, &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let c = complete(&out);
    assert!(!out.join(".points.parquet.tmp-99999").exists());
    assert_eq!(
        rows(&c),
        Some(0),
        "rejects.parquet is always written, here with no rows"
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_mixed_directory_is_detected() {
    let base = tmp("mixed");
    let (a, b) = (base.join("a"), base.join("b"));
    assert!(run(build(&a, &[])).status.success());
    assert!(run(build(&b, &["--max", "90"])).status.success());
    complete(&a);
    // The mix a killed run of an older version left: points of one run, cells of another.
    for f in ["points.parquet", "cells.geojson", "map.png"] {
        let mixed = base.join(format!("mixed-{f}"));
        std::fs::create_dir_all(&mixed).expect("dir");
        for e in std::fs::read_dir(&a).expect("ls") {
            let p = e.expect("entry").path();
            std::fs::copy(&p, mixed.join(p.file_name().expect("name"))).expect("copy");
        }
        std::fs::copy(b.join(f), mixed.join(f)).expect("copy");
        let c = check(&mixed).expect("check");
        assert!(!c.is_consistent(), "{f}");
        assert!(
            c.problems
                .iter()
                .any(|p| p.starts_with(f) && p.contains("run")),
            "{f}: {:?}",
            c.problems
        );
        let o = run({
            let mut c = Command::new(example("build_cells"));
            c.arg("--check-output").arg(&mixed);
            c
        });
        assert_eq!(o.status.code(), Some(1), "--check-output fails on {f}");
        assert!(stderr(&o).contains("is not one complete run"));
    }
    // A missing file and a truncated one.
    std::fs::remove_file(a.join("targets.parquet")).expect("rm");
    assert!(check(&a).expect("check").problems[0].contains("targets.parquet is missing"));
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn bad_settings_and_locations_fail_before_any_work() {
    let base = tmp("params");
    let out = base.join("out");
    let file = base.join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let missing = base.join("no-such-points.csv");
    // A regular file as --out: named at once, before reading the (missing) points.
    let o = run(build_on(&missing, &file, &[]));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("exists and is not a directory"), "{e}");
    assert!(!e.contains("no-such-points"), "{e}");
    // A directory of other files.
    std::fs::create_dir_all(&out).expect("dir");
    std::fs::write(out.join("thesis.tex"), b"x").expect("write");
    let o = run(build(&out, &[]));
    assert!(stderr(&o).contains("holds files geocells did not write (thesis.tex)"));
    assert!(out.join("thesis.tex").exists());
    std::fs::remove_file(out.join("thesis.tex")).expect("rm");
    // Settings that size memory, threads or files: refused with the allowed range.
    for (args, says) in [
        (
            &["--map-width", "100000"][..],
            "100000 is not in 16..=10000",
        ),
        (&["--map-width", "0"][..], "0 is not in 16..=10000"),
        (
            &["--map-bbox", "2.8,48.5,1.9,49.1"][..],
            "invalid value '2.8,48.5,1.9,49.1' for '--map-bbox",
        ),
        (
            &["--map-bbox", "-74.3,40.45,-73.65"][..],
            "'-74.3,40.45,-73.65' for '--map-bbox <MIN_LON,MIN_LAT,MAX_LON,MAX_LAT|CITY>': 3 values, not 4",
        ),
        (
            &["--map-bbox", "0,0,1,95"][..],
            "max_lat 95 is outside -90 to 90",
        ),
        (
            &["--map-bbox", "berlin"][..],
            "neither a known name nor four numbers",
        ),
        (
            &["--map-colour", "admin"][..],
            "invalid value 'admin' for '--map-colour <cell|rule>': not one of cell, rule",
        ),
        (
            &["--threads", "100000"][..],
            "--threads 100000: must be from 1 to",
        ),
        (&["--threads", "0"][..], "--threads 0: must be from 1 to"),
        (&["--top-k", "1000000000"][..], "k from 1 to 1000"),
        (
            &["--snap-km", "1e300"][..],
            "snap_km must be a number from 0 to 20015",
        ),
        (
            &["--fuse-max-km", "1e9"][..],
            "fuse_max_km must be a number above 0",
        ),
        (&["--tau-km", "inf"][..], "tau_km above 0"),
        (&["--min", "0"][..], "min_size must be at least 1"),
        (&["--optics", "1:0.05"][..], "min_samples"),
    ] {
        let t = Instant::now();
        let o = run(build(&out, args));
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{args:?} failed late"
        );
        assert!(!out.join("report.json").exists(), "{args:?} wrote outputs");
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_run_that_labels_nothing_still_writes_its_rejects_and_says_why() {
    let base = tmp("nothing");
    let out = base.join("out");
    // The Benelux places with longitude and latitude swapped (latitudes above 90).
    let text = std::fs::read_to_string(fixture("belux_geonames.csv")).expect("fixture");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let (ilon, ilat) = (
        header.iter().position(|h| *h == "lon").expect("lon"),
        header.iter().position(|h| *h == "lat").expect("lat"),
    );
    let mut swapped = vec!["lon,lat".to_string()];
    let mut rows = 0;
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        swapped.push(format!("{},{}", f[ilat], f[ilon]));
        rows += 1;
    }
    let points = base.join("swapped.csv");
    std::fs::write(&points, swapped.join("\n")).expect("write");
    let o = run(build_on(&points, &out, &[]));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("none of the {rows} rows could be labelled")),
        "{e}"
    );
    assert!(e.contains(&format!("{rows} off_land")), "{e}");
    assert!(e.contains("longitude and latitude swapped"), "{e}");
    let c = check(&out).expect("check");
    assert!(c.is_consistent(), "{:?}", c.problems);
    assert_eq!(c.status.as_deref(), Some("failed"));
    let rejects = c
        .files
        .iter()
        .find(|f| f.0 == "rejects.parquet")
        .expect("rejects");
    assert_eq!(
        rejects.2,
        Some(rows as u64),
        "every row is in rejects.parquet"
    );
    // Swapped columns that put latitudes out of range (Tokyo, Osaka, Sapporo) say so.
    let far = base.join("far.csv");
    std::fs::write(&far, "lon,lat\n35.68,139.69\n34.69,135.50\n43.06,141.35\n").expect("write");
    let o = run(build_on(&far, &out, &[]));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("3 out_of_range"), "{e}");
    assert!(e.contains("longitude and latitude look swapped"), "{e}");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn assign_cells_writes_a_consistent_pair() {
    let base = tmp("assign");
    let out = base.join("out");
    assert!(run(build(&out, &[])).status.success());
    let assigned = base.join("val.parquet");
    let assign = |points: &Path| {
        let mut c = Command::new(example("assign_cells"));
        c.arg("--cells")
            .arg(out.join("cells.parquet"))
            .arg("--points")
            .arg(points)
            .arg("--out")
            .arg(&assigned);
        run(c)
    };
    // With rejects, then without: the rejects file of the first run does not survive.
    let bad_points = points_with_bad_rows(&base);
    let o = assign(&bad_points);
    assert!(o.status.success(), "{}", stderr(&o));
    let bad = geocells::files::check_assigned(&assigned).expect("check");
    assert!(bad.is_consistent(), "{:?}", bad.problems);
    assert!(
        bad.files[1].2 > Some(0),
        "the bad points have rejects: {bad:?}"
    );
    let o = assign(&fixture("belux_geonames.csv"));
    assert!(o.status.success(), "{}", stderr(&o));
    let good = geocells::files::check_assigned(&assigned).expect("check");
    assert!(good.is_consistent(), "{:?}", good.problems);
    assert_eq!(good.files[1].2, Some(0), "no stale rejects: {good:?}");
    assert_ne!(good.run_id, bad.run_id);
    // A pair from two runs is detected.
    let rejects = base.join("val_rejects.parquet");
    let other = base.join("other.parquet");
    std::fs::copy(&assigned, &other).expect("copy");
    let o = assign(&bad_points);
    assert!(o.status.success());
    std::fs::copy(&other, &assigned).expect("copy");
    let mixed = geocells::files::check_assigned(&assigned).expect("check");
    assert!(
        mixed
            .problems
            .iter()
            .any(|p| p.contains("different run ids")),
        "{:?}",
        mixed.problems
    );
    assert!(rejects.exists());
    // A directory as --out is refused before reading anything.
    let mut c = Command::new(example("assign_cells"));
    c.arg("--cells")
        .arg(out.join("cells.parquet"))
        .arg("--points")
        .arg(base.join("missing.csv"))
        .arg("--out")
        .arg(&base);
    let o = run(c);
    assert!(stderr(&o).contains("it is a directory"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&base);
}
