//! Moving a file out of the inbox once its session committed: under `DIR/YYYY/MM/DD/` (the
//! day it moved, UTC), its path below the inbox kept, never overwriting anything: when the
//! name is taken, `-1`, `-2`... goes before the extension.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The folder of the day under `dir`: `dir/YYYY/MM/DD`.
pub fn day_folder(dir: &Path, when: SystemTime) -> PathBuf {
    let day = chrono::DateTime::<chrono::Utc>::from(when);
    dir.join(day.format("%Y/%m/%d").to_string())
}

/// Moves `file` (found at `relative` below its inbox) into `day` and returns where it went.
pub fn move_into(file: &Path, relative: &Path, day: &Path) -> io::Result<PathBuf> {
    let folder = match relative.parent() {
        Some(parent) => day.join(parent),
        None => day.to_path_buf(),
    };
    fs::create_dir_all(&folder)?;
    let name = relative
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let name = Path::new(name);
    for n in 0u32.. {
        let target = folder.join(numbered(name, n));
        match place(file, &target) {
            Ok(()) => return Ok(target),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    unreachable!("u32 names run out")
}

/// `name` for 0, else `stem-N.ext`.
fn numbered(name: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return name.to_path_buf();
    }
    let stem = name
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    match name.extension() {
        Some(ext) => PathBuf::from(format!("{stem}-{n}.{}", ext.to_string_lossy())),
        None => PathBuf::from(format!("{stem}-{n}")),
    }
}

/// Puts `file` at `target` unless `target` exists (`AlreadyExists` then). A hard link then
/// removing the original is a move that cannot overwrite; across file systems (or where
/// links are not allowed) the file is copied into a newly created file instead.
fn place(file: &Path, target: &Path) -> io::Result<()> {
    match fs::hard_link(file, target) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Err(err),
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(err),
        Err(_) => copy_new(file, target)?,
    }
    fs::remove_file(file)
}

fn copy_new(file: &Path, target: &Path) -> io::Result<()> {
    let mut source = fs::File::open(file)?;
    let modified = source.metadata()?.modified().ok();
    let mut copy = fs::File::options()
        .write(true)
        .create_new(true)
        .open(target)?;
    let copied = io::copy(&mut source, &mut copy).and_then(|_| copy.sync_all());
    if let Err(err) = copied {
        let _ = fs::remove_file(target);
        return Err(err);
    }
    if let Some(modified) = modified {
        let _ = copy.set_modified(modified);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_folder_is_utc_year_month_day() {
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199);
        assert_eq!(
            day_folder(Path::new("arch"), when),
            PathBuf::from("arch/2024/02/29")
        );
    }

    #[test]
    fn a_taken_name_gets_a_suffix_and_nothing_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        let day = dir.path().join("archive/2024/02/29");
        fs::create_dir_all(inbox.join("partner")).unwrap();
        let relative = Path::new("partner/a.csv");
        let mut placed = Vec::new();
        for content in ["first", "second", "third"] {
            fs::write(inbox.join(relative), content).unwrap();
            placed.push(move_into(&inbox.join(relative), relative, &day).unwrap());
            assert!(!inbox.join(relative).exists());
        }
        assert_eq!(
            placed,
            ["a.csv", "a-1.csv", "a-2.csv"].map(|n| day.join("partner").join(n))
        );
        let contents: Vec<String> = placed
            .iter()
            .map(|p| fs::read_to_string(p).unwrap())
            .collect();
        assert_eq!(contents, ["first", "second", "third"]);
    }

    #[test]
    fn a_copy_never_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from.csv"), dir.path().join("to.csv"));
        fs::write(&from, "new").unwrap();
        fs::write(&to, "kept").unwrap();
        let err = copy_new(&from, &to).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&to).unwrap(), "kept");
    }
}
