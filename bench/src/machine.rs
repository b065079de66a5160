//! What the benchmarks ran on: CPU, memory, OS, toolchain and browser versions, limits.

use std::process::Command;

/// A Markdown list describing this machine.
pub fn describe() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?.trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let kernel = output("uname", &["-r"]);
    let rustc = output("rustc", &["-V"]);
    let chromium = output(&std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into()), &["--version"]);
    format!(
        "- CPU: {model}, {cores} cores available\n- Memory: {mem_gib:.1} GiB\n- OS: {os}, Linux {kernel}\n\
         - Open-files limit per process: {}\n- {rustc}; server and load generator built with the `server-release` \
         profile, the app with `release` (trunk)\n- {chromium} (headless)\n",
        crate::server::open_files_limit()
    )
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{program}: unknown"))
}
