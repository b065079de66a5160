//! Server configuration: defaults, then `IZI_*` environment variables, then command-line flags.
//!
//! Invariant: configuration is read once at start-up; nothing below `startup` reads the environment.

use std::path::PathBuf;

use anyhow::{Context, bail};

/// The port the server listens on when nothing else is said.
pub const DEFAULT_PORT: u16 = 8001;

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to bind, `127.0.0.1` by default (`IZI_HOST`, `--host`).
    pub host: String,
    /// Port to bind, 8001 by default; 0 picks a free port (`IZI_PORT`, `--port`).
    pub port: u16,
    /// Folder holding the built app (`IZI_DIST_DIR`, `--dist`), `dist` by default.
    pub dist_dir: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: DEFAULT_PORT,
            dist_dir: PathBuf::from("dist"),
        }
    }
}

impl Config {
    /// Layers the defaults, the given environment lookup and the command-line arguments (without the
    /// program name), later layers winning.
    pub fn load(
        env: impl Fn(&str) -> Option<String>,
        args: impl IntoIterator<Item = String>,
    ) -> anyhow::Result<Self> {
        let mut config = Self::default();
        if let Some(host) = env("IZI_HOST") {
            config.host = host;
        }
        if let Some(port) = env("IZI_PORT") {
            config.port = parse_port(&port).context("IZI_PORT")?;
        }
        if let Some(dist) = env("IZI_DIST_DIR") {
            config.dist_dir = dist.into();
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .with_context(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--port" | "-p" => config.port = parse_port(&value()?).context("--port")?,
                "--host" => config.host = value()?,
                "--dist" => config.dist_dir = value()?.into(),
                "--help" | "-h" => bail!("usage: server [--host ADDR] [--port PORT] [--dist DIR]"),
                other => bail!(
                    "unknown argument `{other}` (usage: server [--host ADDR] [--port PORT] [--dist DIR])"
                ),
            }
        }
        Ok(config)
    }
}

fn parse_port(text: &str) -> anyhow::Result<u16> {
    text.trim()
        .parse::<u16>()
        .with_context(|| format!("`{text}` is not a port number (0-65535)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_listen_on_8001() {
        let config = Config::load(env_of(&[]), args(&[])).unwrap();
        assert_eq!(config.port, 8001);
        assert_eq!(config.dist_dir, PathBuf::from("dist"));
    }

    #[test]
    fn environment_overrides_defaults_and_flags_override_environment() {
        let env = env_of(&[("IZI_PORT", "9000"), ("IZI_DIST_DIR", "/srv/app")]);
        let config = Config::load(&env, args(&[])).unwrap();
        assert_eq!(
            (config.port, config.dist_dir.clone()),
            (9000, PathBuf::from("/srv/app"))
        );
        let config = Config::load(&env, args(&["--port", "9100"])).unwrap();
        assert_eq!(config.port, 9100);
        let config = Config::load(&env, args(&["--port=9200", "--host", "0.0.0.0"])).unwrap();
        assert_eq!((config.port, config.host.as_str()), (9200, "0.0.0.0"));
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let err = Config::load(env_of(&[("IZI_PORT", "eighty")]), args(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("IZI_PORT"), "{err:#}");
        let err = Config::load(env_of(&[]), args(&["--port", "70000"])).unwrap_err();
        assert!(format!("{err:#}").contains("not a port number"), "{err:#}");
        assert!(Config::load(env_of(&[]), args(&["--port"])).is_err());
        assert!(Config::load(env_of(&[]), args(&["--bogus"])).is_err());
    }
}
