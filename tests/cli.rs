//! The `playbook` binary: `check` and `fmt` on temporary files, their exit
//! codes (0 clean, 1 problems, 2 usage or I/O errors) and their output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const CLEAN: &str = "\
symbol gold = XAUUSD
param drop = 1.5%

rule dip:
    buy gold if gold.close falls by drop within 1d
    exit after 3d
";

const UNKNOWN_NAME: &str = "\
symbol gold = XAUUSD

rule dip:
    buy gold if gld.close > 3
";

const SYNTAX_ERROR: &str = "\
symbol gold = XAUUSD

rule dip:
    buy gold if
";

const MESSY: &str = "\
symbol   gold=XAUUSD   # the metal
param drop=1.5%
rule dip:  buy gold if gold.close falls by drop within 1d
";

const MESSY_FORMATTED: &str = "\
symbol gold = XAUUSD  # the metal

param drop = 1.5%

rule dip:
    buy gold if gold.close falls by drop within 1d
";

/// A fresh empty directory for one test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "playbook-cli-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap()
    }

    /// Runs `playbook ARGS` in this directory (stdout and stderr are pipes).
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, |_| {})
    }

    fn run_with(&self, args: &[&str], tweak: impl FnOnce(&mut Command)) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_playbook"));
        cmd.args(args).current_dir(&self.0).env_remove("NO_COLOR");
        tweak(&mut cmd);
        cmd.output().unwrap()
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn check_clean_file_exits_0() {
    let dir = TempDir::new();
    dir.write("clean.play", CLEAN);
    let out = dir.run(&["check", "clean.play"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).ends_with("checked 1 file: 0 errors, 0 warnings\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_reports_errors_and_exits_1() {
    let dir = TempDir::new();
    dir.write("clean.play", CLEAN);
    dir.write("bad.play", UNKNOWN_NAME);
    let out = dir.run(&["check", "clean.play", "bad.play"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.starts_with("error[E0101]: "), "{err}");
    assert!(err.contains(" --> bad.play:4:17\n"), "{err}");
    assert!(err.contains("4 |     buy gold if gld.close > 3\n"), "{err}");
    assert!(err.contains("checked 2 files: 1 error, "), "{err}");
    // Piped output has no colour.
    assert!(!err.contains('\x1b'), "{err}");
}

#[test]
fn check_shows_syntax_errors() {
    let dir = TempDir::new();
    dir.write("broken.play", SYNTAX_ERROR);
    let out = dir.run(&["check", "broken.play"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).starts_with("error[E0"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" --> broken.play:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn colour_on_request_and_never_with_no_color() {
    let dir = TempDir::new();
    dir.write("bad.play", UNKNOWN_NAME);
    let out = dir.run(&["check", "--color", "always", "bad.play"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains('\x1b'), "{}", stderr(&out));
    // NO_COLOR only affects `auto`, and piped output is plain anyway.
    let out = dir.run_with(&["check", "bad.play"], |c| {
        c.env("NO_COLOR", "1");
    });
    assert!(!stderr(&out).contains('\x1b'));
}

#[test]
fn unreadable_file_exits_2_after_checking_the_others() {
    let dir = TempDir::new();
    dir.write("bad.play", UNKNOWN_NAME);
    let out = dir.run(&["check", "missing.play", "bad.play"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: cannot read missing.play: No such file or directory\n"),
        "{err}"
    );
    assert!(
        err.contains("error[E0101]"),
        "the readable file is still checked: {err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new();
    assert_eq!(code(&dir.run(&["check"])), 2);
    assert_eq!(code(&dir.run(&["frobnicate"])), 2);
    assert_eq!(code(&dir.run(&["check", "--format", "xml", "a.play"])), 2);
    assert_eq!(code(&dir.run(&["--help"])), 0);
}

#[test]
fn check_json_output() {
    let dir = TempDir::new();
    dir.write("clean.play", CLEAN);
    dir.write("bad.play", UNKNOWN_NAME);
    let out = dir.run(&["check", "--format", "json", "clean.play", "bad.play"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["files"], 2);
    assert_eq!(json["errors"], 1);
    let first = &json["diagnostics"][0];
    assert_eq!(first["file"], "bad.play");
    assert_eq!(first["code"], "E0101");
    assert_eq!(first["start"]["line"], 4);
    insta::assert_json_snapshot!(json);
}

#[test]
fn fmt_check_lists_files_that_would_change() {
    let dir = TempDir::new();
    dir.write("messy.play", MESSY);
    dir.write("tidy.play", MESSY_FORMATTED);
    let out = dir.run(&["fmt", "--check", "messy.play", "tidy.play"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "messy.play\n");
    assert_eq!(dir.read("messy.play"), MESSY, "--check writes nothing");

    let out = dir.run(&["fmt", "--check", "tidy.play"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "");
}

#[test]
fn fmt_rewrites_files_in_place() {
    let dir = TempDir::new();
    dir.write("messy.play", MESSY);
    let out = dir.run(&["fmt", "messy.play"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(dir.read("messy.play"), MESSY_FORMATTED);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["messy.play"]);
    // Formatting again changes nothing.
    assert_eq!(code(&dir.run(&["fmt", "--check", "messy.play"])), 0);
}

#[test]
fn fmt_refuses_files_with_syntax_errors() {
    let dir = TempDir::new();
    dir.write("broken.play", SYNTAX_ERROR);
    dir.write("messy.play", MESSY);
    let out = dir.run(&["fmt", "broken.play", "messy.play"]);
    assert_eq!(code(&out), 1);
    assert_eq!(dir.read("broken.play"), SYNTAX_ERROR);
    assert_eq!(
        dir.read("messy.play"),
        MESSY_FORMATTED,
        "the other file is formatted"
    );
    let err = stderr(&out);
    assert!(err.contains(" --> broken.play:"), "{err}");
    assert!(
        err.contains("error: not formatting broken.play: it has syntax errors"),
        "{err}"
    );
}

#[test]
fn fmt_missing_file_exits_2() {
    let dir = TempDir::new();
    let out = dir.run(&["fmt", "nope.play"]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr(&out),
        "error: cannot read nope.play: No such file or directory\n"
    );
}

#[test]
fn closed_pipe_exits_quietly() {
    let dir = TempDir::new();
    let mut args = vec!["check".to_string()];
    // Far more diagnostics than a pipe buffers, so writing must hit the closed pipe.
    for i in 0..400 {
        let name = format!("bad{i}.play");
        dir.write(&name, UNKNOWN_NAME);
        args.push(name);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_playbook"))
        .args(&args)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a closed pipe is not a crash");
}
