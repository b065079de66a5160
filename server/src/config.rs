//! Server configuration, layered: defaults → optional TOML file (`IZI_CONFIG` or `--config`) → `IZI_*`
//! environment variables → command-line flags, later layers winning.
//!
//! Invariant: configuration is read once at start-up; nothing below `startup` reads the environment. Every
//! setting has one name, used as the file key, as `IZI_<NAME>` and as `--<name-with-dashes>`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

/// The port the server listens on when nothing else is said.
pub const DEFAULT_PORT: u16 = 8001;

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to bind (`host`), `127.0.0.1` by default.
    pub host: String,
    /// Port to bind (`port`), 8001 by default; 0 picks a free port.
    pub port: u16,
    /// Folder holding the built app (`dist_dir`), `dist` by default.
    pub dist_dir: PathBuf,
    /// The database (`database_url`): SQLite, `sqlite://data/izishopin.db` by default, created if missing; or
    /// PostgreSQL (`postgres://user:password@host:5432/name`, the database existing). Migrated and seeded if new.
    pub database_url: String,
    /// Cluster mode (`redis_url`, `redis://host:port`): committed events and revocations go to every instance
    /// over Redis; with several instances, set the same `database_url` (PostgreSQL) and `jwt_secret` on each.
    /// `None` by default: one process, the in-process hub.
    pub redis_url: Option<String>,
    /// Cluster mode: how often the Redis subscription and the event log are probed (`redis_probe_ms`), 1 s.
    pub redis_probe: Duration,
    /// Cluster mode: how long a missing event is waited for over Redis before it is read from the log
    /// (`cluster_gap_wait_ms`), 200 ms.
    pub cluster_gap_wait: Duration,
    /// HS256 secret for tokens (`jwt_secret`); `None`: a random secret per start (tokens die with the process).
    pub jwt_secret: Option<String>,
    /// Lifetime of a token (`token_ttl_secs`), 1 h by default.
    pub token_ttl: Duration,
    /// How long after expiry a token may still be exchanged at `/api/auth/refresh` (`refresh_grace_secs`),
    /// 24 h by default.
    pub refresh_grace: Duration,
    /// Browser origins allowed to open the WebSocket (`allowed_origins`, comma-separated). Empty: the server's
    /// own origin and the usual localhost dev ports.
    pub allowed_origins: Vec<String>,
    /// Events younger than this can be replayed by `resume` (`event_retention_secs`), 10 min by default.
    pub event_retention: Duration,
    /// At most this many events are kept for replay (`event_retention_count`), 10,000 by default.
    pub event_retention_count: u64,
    /// PEM certificate chain and key (`tls_cert`, `tls_key`): when both are set the server speaks https/wss.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A new socket must authenticate within this time (`ws_auth_timeout_ms`), 5 s by default.
    pub ws_auth_timeout: Duration,
    /// Largest accepted client frame (`ws_max_frame_bytes`), 64 KiB by default; larger closes with 1009.
    pub ws_max_frame_bytes: usize,
    /// Client frames allowed per 10 s window (`ws_max_messages_per_10s`) before closing with 1008.
    pub ws_max_messages_per_10s: u32,
    /// Committed writes (batches of events) waiting to be fanned out (`ws_hub_queue`), 1,024 by default; when
    /// it is full, writes wait for the fan-out.
    pub ws_hub_queue: usize,
    /// Writes (batches of events) queued for one socket before a slow reader is dropped with 1013
    /// (`ws_socket_queue`, or its former name `ws_queue`), 512 by default.
    pub ws_socket_queue: usize,
    /// Proxies (a load balancer) whose `X-Forwarded-For` names the client (`trusted_proxies`, comma-separated
    /// IP addresses). Empty by default: the client is always the connection's peer, whatever a header says.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Failed logins per client address within `login_window_secs` before 429 (`login_max_failures`).
    pub login_max_failures: u32,
    pub login_window: Duration,
    /// Extra latency added to every `/api` answer (`api_delay_ms`), 0 by default: simulates a slow network for
    /// demos and for tests of what the app shows before the network answers.
    pub api_delay: Duration,
    /// A connection must send a request's complete headers within this time (`http_header_timeout_ms`),
    /// 15 s by default; it also ends a keep-alive connection idle that long.
    pub http_header_timeout: Duration,
    /// A request's declared body must arrive within this time (`http_body_timeout_ms`), 30 s by default: 408.
    pub http_body_timeout: Duration,
    /// Connections open at once at most (`max_connections`), 20,000 by default; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: DEFAULT_PORT,
            dist_dir: PathBuf::from("dist"),
            database_url: "sqlite://data/izishopin.db".into(),
            redis_url: None,
            redis_probe: Duration::from_secs(1),
            cluster_gap_wait: Duration::from_millis(200),
            jwt_secret: None,
            token_ttl: Duration::from_secs(3600),
            refresh_grace: Duration::from_secs(24 * 3600),
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            event_retention: Duration::from_secs(600),
            event_retention_count: 10_000,
            tls_cert: None,
            tls_key: None,
            ws_auth_timeout: Duration::from_secs(5),
            ws_max_frame_bytes: 64 * 1024,
            ws_max_messages_per_10s: 200,
            ws_hub_queue: 1024,
            ws_socket_queue: 512,
            login_max_failures: 5,
            login_window: Duration::from_secs(60),
            api_delay: Duration::ZERO,
            http_header_timeout: Duration::from_secs(15),
            http_body_timeout: Duration::from_secs(30),
            max_connections: 20_000,
        }
    }
}

/// Every setting name, in the order `--help` lists them.
pub const SETTINGS: &[&str] = &[
    "host",
    "port",
    "dist_dir",
    "database_url",
    "redis_url",
    "redis_probe_ms",
    "cluster_gap_wait_ms",
    "jwt_secret",
    "token_ttl_secs",
    "refresh_grace_secs",
    "allowed_origins",
    "trusted_proxies",
    "event_retention_secs",
    "event_retention_count",
    "tls_cert",
    "tls_key",
    "ws_auth_timeout_ms",
    "ws_max_frame_bytes",
    "ws_max_messages_per_10s",
    "ws_hub_queue",
    "ws_socket_queue",
    "login_max_failures",
    "login_window_secs",
    "api_delay_ms",
    "http_header_timeout_ms",
    "http_body_timeout_ms",
    "max_connections",
];

impl Config {
    /// Layers the defaults, the optional file, the given environment lookup and the command-line arguments
    /// (without the program name).
    pub fn load(env: impl Fn(&str) -> Option<String>, args: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        let flags = parse_flags(args)?;
        let mut config = Self::default();
        let file =
            flags.iter().rev().find(|(k, _)| k == "config").map(|(_, v)| v.clone()).or_else(|| env("IZI_CONFIG"));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read the config file {path}"))?;
            config.apply_toml(&text).with_context(|| format!("in the config file {path}"))?;
        }
        for name in SETTINGS {
            if let Some(value) = env(&format!("IZI_{}", name.to_uppercase())) {
                config.set(name, &value).with_context(|| format!("IZI_{}", name.to_uppercase()))?;
            }
        }
        for (name, value) in flags.iter().filter(|(k, _)| k != "config") {
            config.set(name, value).with_context(|| format!("--{}", name.replace('_', "-")))?;
        }
        Ok(config)
    }

    /// Applies the settings of a TOML document (keys are the setting names).
    pub fn apply_toml(&mut self, text: &str) -> anyhow::Result<()> {
        let table: toml::Table = text.parse().context("not valid TOML")?;
        for (key, value) in table {
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned).unwrap_or_else(|| i.to_string()))
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            self.set(&key, &value).with_context(|| format!("key `{key}`"))?;
        }
        Ok(())
    }

    /// Sets one setting from its text form.
    pub fn set(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        let value = value.trim();
        let optional = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        match name {
            "host" => self.host = value.to_owned(),
            "port" => self.port = parse_number(value)?,
            "dist_dir" => self.dist_dir = value.into(),
            "database_url" => self.database_url = value.to_owned(),
            "redis_url" => self.redis_url = optional(value),
            "redis_probe_ms" => self.redis_probe = Duration::from_millis(parse_positive(value)?),
            "cluster_gap_wait_ms" => self.cluster_gap_wait = Duration::from_millis(parse_positive(value)?),
            "jwt_secret" => self.jwt_secret = optional(value),
            "token_ttl_secs" => self.token_ttl = Duration::from_secs(parse_positive(value)?),
            "refresh_grace_secs" => self.refresh_grace = Duration::from_secs(parse_number(value)?),
            "allowed_origins" => {
                self.allowed_origins =
                    value.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect()
            }
            "trusted_proxies" => {
                self.trusted_proxies = value
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| p.parse().with_context(|| format!("`{p}` in trusted_proxies is not an IP address")))
                    .collect::<anyhow::Result<_>>()?
            }
            "event_retention_secs" => self.event_retention = Duration::from_secs(parse_number(value)?),
            "event_retention_count" => self.event_retention_count = parse_number(value)?,
            "tls_cert" => self.tls_cert = optional(value).map(PathBuf::from),
            "tls_key" => self.tls_key = optional(value).map(PathBuf::from),
            "ws_auth_timeout_ms" => self.ws_auth_timeout = Duration::from_millis(parse_positive(value)?),
            "ws_max_frame_bytes" => self.ws_max_frame_bytes = parse_positive(value)? as usize,
            "ws_max_messages_per_10s" => self.ws_max_messages_per_10s = parse_positive(value)? as u32,
            "ws_hub_queue" => self.ws_hub_queue = parse_positive(value)? as usize,
            "ws_socket_queue" | "ws_queue" => self.ws_socket_queue = parse_positive(value)? as usize,
            "login_max_failures" => self.login_max_failures = parse_positive(value)? as u32,
            "login_window_secs" => self.login_window = Duration::from_secs(parse_positive(value)?),
            "api_delay_ms" => self.api_delay = Duration::from_millis(parse_number(value)?),
            "http_header_timeout_ms" => self.http_header_timeout = Duration::from_millis(parse_positive(value)?),
            "http_body_timeout_ms" => self.http_body_timeout = Duration::from_millis(parse_positive(value)?),
            "max_connections" => self.max_connections = parse_positive(value)? as usize,
            other => bail!("unknown setting `{other}` (known: {})", SETTINGS.join(", ")),
        }
        Ok(())
    }

    /// The browser origins allowed to open the WebSocket: the configured list, or by default this server's own
    /// origin (http and https, localhost and 127.0.0.1) and the usual dev-server ports.
    pub fn effective_allowed_origins(&self, bound_port: u16) -> Vec<String> {
        if !self.allowed_origins.is_empty() {
            return self.allowed_origins.clone();
        }
        let mut origins = Vec::new();
        for port in [bound_port, 8080, 3000, 5173] {
            for host in ["localhost", "127.0.0.1"] {
                for scheme in ["http", "https"] {
                    origins.push(format!("{scheme}://{host}:{port}"));
                }
            }
        }
        origins
    }
}

fn parse_flags(args: impl IntoIterator<Item = String>) -> anyhow::Result<Vec<(String, String)>> {
    let usage = || {
        let flags: Vec<String> = SETTINGS.iter().map(|s| format!("[--{} VALUE]", s.replace('_', "-"))).collect();
        format!("usage: server [--config FILE] {}", flags.join(" "))
    };
    let mut flags = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            bail!("{}", usage());
        }
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-').filter(|f| *f == "p")) else {
            bail!("unexpected argument `{arg}` ({})", usage());
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (flag.to_owned(), None),
        };
        let name = if name == "p" { "port".to_owned() } else { name.replace('-', "_") };
        if name != "config" && !SETTINGS.contains(&name.as_str()) {
            bail!("unknown argument `{arg}` ({})", usage());
        }
        let value = match inline {
            Some(value) => value,
            None => args.next().with_context(|| format!("--{} needs a value", name.replace('_', "-")))?,
        };
        flags.push((name, value));
    }
    Ok(flags)
}

fn parse_number<T: std::str::FromStr>(text: &str) -> anyhow::Result<T> {
    text.parse::<T>().map_err(|_| anyhow::anyhow!("`{text}` is not a valid number here"))
}

fn parse_positive(text: &str) -> anyhow::Result<u64> {
    let n: u64 = parse_number(text)?;
    if n == 0 {
        bail!("must be greater than 0");
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string())
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_listen_on_8001() {
        let config = Config::load(env_of(&[]), args(&[])).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.port, 8001);
        assert_eq!(config.dist_dir, PathBuf::from("dist"));
        assert_eq!(config.token_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn environment_overrides_defaults_and_flags_override_environment() {
        let env = env_of(&[("IZI_PORT", "9000"), ("IZI_DIST_DIR", "/srv/app")]);
        let config = Config::load(&env, args(&[])).unwrap();
        assert_eq!((config.port, config.dist_dir.clone()), (9000, PathBuf::from("/srv/app")));
        let config = Config::load(&env, args(&["--port", "9100"])).unwrap();
        assert_eq!(config.port, 9100);
        let config = Config::load(&env, args(&["--port=9200", "--host", "0.0.0.0", "-p", "9300"])).unwrap();
        assert_eq!((config.port, config.host.as_str()), (9300, "0.0.0.0"));
    }

    #[test]
    fn a_file_sits_between_defaults_and_environment() {
        let dir = std::env::temp_dir().join(format!("izi-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("server.toml");
        std::fs::write(&path, "port = 7000\ntoken_ttl_secs = 60\nallowed_origins = [\"https://shop.test\"]\n").unwrap();
        let path_text = path.display().to_string();
        let env = move |key: &str| match key {
            "IZI_CONFIG" => Some(path_text.clone()),
            "IZI_TOKEN_TTL_SECS" => Some("120".into()),
            _ => None,
        };
        let config = Config::load(env, args(&[])).unwrap();
        assert_eq!(config.port, 7000, "from the file");
        assert_eq!(config.token_ttl, Duration::from_secs(120), "environment beats the file");
        assert_eq!(config.allowed_origins, vec!["https://shop.test".to_owned()]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        let config = Config::load(env_of(&[("IZI_TRUSTED_PROXIES", "10.0.0.1, ::1")]), args(&[])).unwrap();
        assert_eq!(
            config.trusted_proxies,
            vec!["10.0.0.1".parse::<std::net::IpAddr>().unwrap(), "::1".parse().unwrap()]
        );
        let err = Config::load(env_of(&[("IZI_TRUSTED_PROXIES", "10.0.0.0/8")]), args(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("not an IP address"), "{err:#}");
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let err = Config::load(env_of(&[("IZI_PORT", "eighty")]), args(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("IZI_PORT"), "{err:#}");
        let err = Config::load(env_of(&[]), args(&["--port", "70000"])).unwrap_err();
        assert!(format!("{err:#}").contains("not a valid number"), "{err:#}");
        assert!(Config::load(env_of(&[]), args(&["--port"])).is_err());
        assert!(Config::load(env_of(&[]), args(&["--bogus", "1"])).is_err());
        assert!(Config::load(env_of(&[("IZI_TOKEN_TTL_SECS", "0")]), args(&[])).is_err());
        let mut config = Config::default();
        assert!(config.apply_toml("port = [").is_err());
        assert!(config.apply_toml("colour = \"red\"").is_err());
    }

    #[test]
    fn default_origins_include_the_own_port() {
        let origins = Config::default().effective_allowed_origins(8123);
        assert!(origins.contains(&"http://localhost:8123".to_owned()));
        assert!(origins.contains(&"https://127.0.0.1:8123".to_owned()));
        assert!(!origins.iter().any(|o| o.contains("evil")));
    }
}
