//! A throwaway PostgreSQL cluster per test: the data folder is copied from a template made
//! once by `initdb` (under a file lock, so parallel test processes make it once), started on
//! a free loopback port by `pg_ctl`, and stopped when the guard drops, a failing test
//! included. As root (CI), the server runs as the `postgres` user the Debian package makes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The role every cluster trusts on loopback.
pub const SUPERUSER: &str = "rssd";
/// A role that must give its password (scram-sha-256).
pub const PW_USER: &str = "pwuser";
pub const PW_PASSWORD: &str = "s3cret:pw";

pub struct Cluster {
    pub port: u16,
    data: PathBuf,
    dir: tempfile::TempDir,
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = glob::glob("/usr/lib/postgresql/*/bin/initdb")
        .expect("glob")
        .filter_map(|p| p.ok())
        .collect();
    found.sort_by_key(|p| {
        p.iter()
            .nth(4)
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let initdb = found
        .pop()
        .expect("PostgreSQL is not installed: run scripts/setup.sh (Debian package postgresql)");
    initdb.parent().expect("bin dir").to_path_buf()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the unprivileged server user when we are root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn give_to_server_user(path: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .expect("chown runs");
        assert!(status.success(), "chown {}", path.display());
    }
}

fn run_ok(mut command: Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The template data folder, made once per build directory.
fn template() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fleet-pg");
    std::fs::create_dir_all(&root).expect("template root");
    give_to_server_user(&root);
    let lock = std::fs::File::create(root.join("lock")).expect("lock file");
    lock.lock().expect("template lock");
    let data = root.join("template");
    if !data.join("PG_VERSION").exists() {
        let _ = std::fs::remove_dir_all(&data);
        let mut initdb = as_server_user(&bin_dir().join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ]);
        run_ok(initdb, "initdb");
    }
    data
}

impl Cluster {
    /// A new cluster; `ssl_only` makes the server refuse unencrypted loopback connections.
    pub fn start_with(ssl_only: bool) -> Cluster {
        let template = template();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        run_ok(
            {
                let mut cp = Command::new("cp");
                cp.arg("-a").arg(&template).arg(&data);
                cp
            },
            "copy template",
        );
        let hba = if ssl_only {
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n"
        } else {
            "local all all trust\nhost all pwuser 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n"
        };
        std::fs::write(data.join("pg_hba.conf"), hba).expect("pg_hba");
        if ssl_only {
            make_certificate(&data);
        }
        give_to_server_user(dir.path());
        let port = free_port();
        let cluster = Cluster { port, data, dir };
        cluster.start_server(ssl_only);
        cluster.sql(&format!(
            "CREATE ROLE {PW_USER} LOGIN SUPERUSER PASSWORD '{PW_PASSWORD}'"
        ));
        cluster
    }

    pub fn start() -> Cluster {
        Cluster::start_with(false)
    }

    /// Starts (or restarts) the server on its port.
    pub fn start_server(&self, ssl: bool) {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        if ssl {
            options.push_str(" -c ssl=on");
        }
        let mut pg_ctl = as_server_user(&bin_dir().join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .args(["-o", &options, "-l"])
            .arg(self.dir.path().join("log"))
            .args(["-w", "-t", "60", "start"]);
        run_ok(pg_ctl, "pg_ctl start");
    }

    /// Stops the server at once, as a crash or a killed machine would.
    pub fn stop_now(&self) {
        let mut pg_ctl = as_server_user(&bin_dir().join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = pg_ctl.output();
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// A new database of the cluster; returns its URL.
    pub fn database(&self, name: &str) -> String {
        self.sql(&format!("CREATE DATABASE \"{name}\""));
        self.url(name)
    }

    pub fn client(&self, db: &str) -> postgres::Client {
        let url = format!(
            "host=127.0.0.1 port={} user={SUPERUSER} dbname={db}",
            self.port
        );
        postgres::Client::connect(&url, postgres::NoTls).expect("test client connects")
    }

    fn sql(&self, sql: &str) {
        // Over the Unix socket, so it also works when loopback TCP requires TLS.
        let url = format!(
            "host={} port={} user={SUPERUSER} dbname=postgres",
            self.dir.path().display(),
            self.port
        );
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("socket client");
        client.batch_execute(sql).expect("setup SQL");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("port").port()
}

/// A self-signed certificate for `ssl=on` (openssl comes with the postgresql package).
fn make_certificate(data: &Path) {
    let mut openssl = Command::new("openssl");
    openssl
        .args([
            "req",
            "-new",
            "-x509",
            "-days",
            "2",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-newkey", "rsa:2048", "-keyout"])
        .arg(data.join("server.key"))
        .arg("-out")
        .arg(data.join("server.crt"));
    run_ok(openssl, "openssl req");
    let mut chmod = Command::new("chmod");
    chmod.arg("600").arg(data.join("server.key"));
    run_ok(chmod, "chmod key");
}
