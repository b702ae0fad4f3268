//! The manual stays honest: every subcommand and every `--long` flag that the real binary's
//! `--help` lists must appear in README.md or a docs/*.md page, inside backticks (a code span
//! such as `--if-exists` or `rssd orchestrate sessions`, or a fenced code block).
//! sqlite-utils keeps its docs honest the same way (tests/test_docs.py).

use std::path::PathBuf;

use crate::common::*;

/// The help text of `rssd ARGS... --help`.
fn help(command: &[String]) -> String {
    let output = rssd()
        .args(command)
        .arg("--help")
        .output()
        .expect("rssd runs");
    assert_status(&output, 0);
    stdout(&output)
}

/// The subcommands a help text lists under `Commands:` (clap's own `help` left out).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// The `--long` flags a help text lists: option lines start with `--flag` or `-x, --flag`.
fn flags(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = match line.split_once(", ") {
                Some((short, rest)) if short.len() == 2 && short.starts_with('-') => rest,
                _ => line,
            };
            let flag: String = line
                .strip_prefix("--")?
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!flag.is_empty() && flag != "help" && flag != "version").then(|| format!("--{flag}"))
        })
        .collect()
}

/// Every command path (`[]`, `["ingest"]`, `["orchestrate", "sessions"]`...) with its help.
fn every_command() -> Vec<(Vec<String>, String)> {
    let mut found = Vec::new();
    let mut pending = vec![Vec::new()];
    while let Some(command) = pending.pop() {
        let text = help(&command);
        for sub in subcommands(&text) {
            let mut path = command.clone();
            path.push(sub);
            pending.push(path);
        }
        found.push((command, text));
    }
    found
}

/// The text inside backticks in every Markdown page of the manual: code spans and fenced blocks.
fn documented_code() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/ exists") {
        let path = entry.expect("docs/ lists").path();
        if path.extension().is_some_and(|ext| ext == "md") {
            pages.push(path);
        }
    }
    let mut code = String::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("page reads");
        // Splitting on backticks puts code at odd positions, for spans and ``` fences alike.
        for (i, piece) in text.split('`').enumerate() {
            if i % 2 == 1 {
                code.push_str(piece);
                code.push('\n');
            }
        }
    }
    code
}

/// Whether `needle` occurs in `code` as a whole word (not as the start of a longer flag).
fn mentions(code: &str, needle: &str) -> bool {
    code.match_indices(needle).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + needle.len()..].chars().next();
        let part_of_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        !before.is_some_and(part_of_word) && !after.is_some_and(part_of_word)
    })
}

#[test]
fn help_parsing_finds_commands_and_flags() {
    let sample = "Commands:\n  ingest  Load\n  help    Print\n\nOptions:\n  -d, --state-db-fs-path <F>  The file\n      --no-progress  No bar\n          - replace: drop\n  -h, --help  Print help\n";
    assert_eq!(subcommands(sample), ["ingest"]);
    assert_eq!(flags(sample), ["--state-db-fs-path", "--no-progress"]);
    assert!(mentions("rssd ingest --if-exists append", "--if-exists"));
    assert!(!mentions("rssd ingest --if-exists-not", "--if-exists"));
    assert!(!mentions("--schema-for", "--schema"));
}

#[test]
fn every_subcommand_and_flag_is_documented() {
    let code = documented_code();
    let commands = every_command();
    assert!(commands.len() > 5, "rssd --help lists its commands");
    let mut missing = Vec::new();
    for (command, help) in &commands {
        let name = format!("rssd {}", command.join(" "));
        if !command.is_empty() && !mentions(&code, name.trim_end()) {
            missing.push(format!("subcommand `{}`", name.trim_end()));
        }
        for flag in flags(help) {
            if !mentions(&code, &flag) {
                missing.push(format!("`{flag}` of `{}`", name.trim_end()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documented nowhere in README.md or docs/*.md (write each in backticks):\n{}",
        missing.join("\n")
    );
}
