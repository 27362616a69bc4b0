// Source flags → checked settings → opened sources, shared by `run` and `idle`.
#include "cli/measurement_sources.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>

#include "attribution/process_tree.hpp"
#include "attribution/procfs.hpp"
#include "cli/options.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "platform/credentials.hpp"
#include "platform/text_file.hpp"
#include "sources/daemon/daemon_counter_source.hpp"
#include "sources/perf/perf_power_source.hpp"
#include "sources/rapl/powercap_rapl.hpp"

namespace wattprint::cli {

namespace {

constexpr const char* kServerGroup = "Server power (IPMI DCMI, Redfish, ACPI power meter)";

/// A flag, else the configuration's value, else the environment variable.
std::optional<std::string> first_of(const std::optional<std::string>& flag,
                                    const std::optional<std::string>& config,
                                    const char* environment = nullptr) {
  if (flag) return flag;
  if (config) return config;
  if (environment != nullptr) {
    if (const char* value = std::getenv(environment); value != nullptr && *value != '\0')
      return std::string(value);
  }
  return std::nullopt;
}

/// HOST, HOST:PORT, [IPv6] or [IPv6]:PORT with a port from 1 to 65535. Throws UsageError.
void check_host_port(const std::string& host) {
  const auto fail = [&](const std::string& why) {
    throw UsageError(fmt::format("--ipmi-host: '{}' {} (HOST or HOST:PORT, port 1 to 65535)", host, why));
  };
  if (host.empty()) fail("is empty");
  std::string port;
  if (host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string::npos) fail("has no closing ']'");
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') fail("has text after ']'");
      port = host.substr(close + 2);
      if (port.empty()) fail("has an empty port");
    }
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    port = host.substr(host.find(':') + 1);
    if (port.empty() || host.front() == ':') fail("has an empty host or port");
  }
  if (port.empty()) return;
  const auto value = parse_first_u64(port);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || !value || *value == 0 ||
      *value > 65535) {
    fail("has an invalid port");
  }
}

Secret password_for(const char* file_option, const std::optional<std::string>& file, const char* environment,
                    const char* what, std::vector<std::string>& warnings) {
  if (file) {
    std::string warning;
    Secret secret = read_secret_file(file_option, *file, warning);
    if (!warning.empty()) warnings.push_back(warning);
    return secret;
  }
  if (auto secret = secret_from_environment(environment)) return std::move(*secret);
  throw UsageError(fmt::format("{} needs a password: {} FILE, or the environment variable {}", what,
                               file_option, environment));
}

}  // namespace

void add_server_flags(CLI::App& app, ServerFlags& flags, double default_interval_s) {
  add_text_option(
      app, "--server-source", flags.source,
      "Whole-server power source: auto (default: a configured BMC, then the local BMC, then the ACPI "
      "power meter), ipmi, redfish, acpi or none")
      ->type_name("NAME")
      ->group(kServerGroup);
  add_text_option(
      app, "--server-interval", flags.interval,
      fmt::format("Seconds between server power readings (default {:g}{}); the card is read on "
                  "its own thread",
                  default_interval_s, default_interval_s == 5.0 ? ", as the study sampled its BMC" : ""))
      ->type_name("SECONDS")
      ->group(kServerGroup);
  add_text_option(
      app, "--server-timeout", flags.timeout,
      "Longest wait for one answer of the management card, in seconds (default 5); a reading that "
      "times out is marked in the report")
      ->type_name("SECONDS")
      ->group(kServerGroup);
  add_text_option(app, "--ipmi-host", flags.ipmi_host,
                  "Read the BMC over the network (IPMI 2.0 lanplus) at HOST or HOST:PORT (default port 623)")
      ->type_name("HOST[:PORT]")
      ->group(kServerGroup);
  add_text_option(app, "--ipmi-user", flags.ipmi_user, "BMC user (also WATTPRINT_IPMI_USER)")
      ->type_name("USER")
      ->group(kServerGroup);
  add_text_option(
      app, "--ipmi-password-file", flags.ipmi_password_file,
      "File holding the BMC password (a trailing newline is ignored); else WATTPRINT_IPMI_PASSWORD. "
      "Passwords are never taken on the command line")
      ->type_name("FILE")
      ->group(kServerGroup);
  add_text_option(
      app, "--ipmi-cipher-suite", flags.ipmi_cipher_suite,
      "IPMI 2.0 cipher suite (default 17, else 3). Suites without authentication or integrity (0, "
      "1, 6, 15) are used only when named here")
      ->type_name("N")
      ->group(kServerGroup);
  add_text_option(app, "--ipmi-privilege", flags.ipmi_privilege,
                  "Privilege of the lanplus session: user, operator or admin (default admin)")
      ->type_name("LEVEL")
      ->group(kServerGroup);
  add_text_option(app, "--ipmi-device", flags.ipmi_device, "The local BMC's device (default /dev/ipmi0)")
      ->type_name("PATH")
      ->group(kServerGroup);
  add_text_option(app, "--redfish", flags.redfish_url,
                  "Read the server's power from this Redfish service (https://BMC) or chassis "
                  "(https://BMC/redfish/v1/Chassis/ID)")
      ->type_name("URL")
      ->group(kServerGroup);
  add_text_option(app, "--redfish-user", flags.redfish_user, "Redfish user (also WATTPRINT_REDFISH_USER)")
      ->type_name("USER")
      ->group(kServerGroup);
  add_text_option(app, "--redfish-password-file", flags.redfish_password_file,
                  "File holding the Redfish password (a trailing newline is ignored); else "
                  "WATTPRINT_REDFISH_PASSWORD")
      ->type_name("FILE")
      ->group(kServerGroup);
  add_text_option(app, "--redfish-ca", flags.redfish_ca,
                  "PEM file with the CA that signed the BMC's certificate (verification is on by default)")
      ->type_name("FILE")
      ->group(kServerGroup);
  app.add_flag(
         "--insecure", flags.insecure,
         "Redfish: do not verify the BMC's TLS certificate (and allow http://). Only on a network you trust")
      ->group(kServerGroup);
  // Typing a password on the command line exposes it to every user (ps, /proc): refuse, and say why.
  for (const char* name : {"--ipmi-password", "--redfish-password"}) {
    app.add_option_function<std::string>(
           name, [&flags](const std::string&) { flags.password_on_command_line = true; }, "")
        ->group("");
  }
}

void add_source_flags(CLI::App& app, SourceFlags& flags) {
  add_text_option(
      app, "--sysfs-root", flags.sysfs_root,
      "Read this directory in place of /sys (a host's /sys mounted in a container, or a test tree)")
      ->type_name("DIR");
  add_text_option(app, "--nvml-library", flags.nvml_library,
                  "The NVML library to load (default libnvidia-ml.so.1 from the driver; also "
                  "WATTPRINT_NVML_LIBRARY)")
      ->type_name("PATH")
      ->group("GPUs");
  add_text_option(app, "--rocm-smi-library", flags.rocm_smi_library,
                  "The ROCm SMI library to load for AMD GPUs (default librocm_smi64.so.1; also "
                  "WATTPRINT_ROCM_SMI_LIBRARY); without it amdgpu's hwmon files are read")
      ->type_name("PATH")
      ->group("GPUs");
  add_server_flags(app, flags.server);
}

void resolve_server_settings(const ServerFlags& flags, const ConfigValues& config, SourceSettings& settings) {
  if (flags.password_on_command_line) {
    throw UsageError(
        "passwords are not taken on the command line (other users can read it with ps): use "
        "--ipmi-password-file FILE / --redfish-password-file FILE, or WATTPRINT_IPMI_PASSWORD / "
        "WATTPRINT_REDFISH_PASSWORD");
  }
  ServerSourceOptions& server = settings.server;
  server.sysfs_root = settings.sysfs_root;
  const auto choice_text = first_of(flags.source, config.server_source);
  if (choice_text) {
    const auto choice = parse_server_source_choice(*choice_text);
    if (!choice) {
      throw UsageError(
          fmt::format("--server-source: '{}' is not one of auto, ipmi, redfish, acpi, none", *choice_text));
    }
    server.choice = *choice;
    settings.server_requested = *choice != ServerSourceChoice::Auto && *choice != ServerSourceChoice::None;
  }
  double interval = config.server_interval_s.value_or(5.0);
  if (flags.interval) interval = parse_number("--server-interval", *flags.interval, 0.1, 3600.0);
  settings.server_interval = Seconds(interval);
  if (config.server_timeout_s) server.timeout = Seconds(*config.server_timeout_s);
  if (flags.timeout) server.timeout = Seconds(parse_number("--server-timeout", *flags.timeout, 0.1, 600.0));
  if (auto device = first_of(flags.ipmi_device, config.ipmi_device)) server.ipmi_device = *device;
  server.daemon_socket = daemon_socket_from_environment();

  if (auto host = first_of(flags.ipmi_host, config.ipmi_host)) {
    IpmiLanOptions lan;
    check_host_port(*host);
    lan.host = *host;
    lan.timeout = server.timeout;
    const auto user = first_of(flags.ipmi_user, config.ipmi_user, "WATTPRINT_IPMI_USER");
    if (!user) throw UsageError("--ipmi-host needs --ipmi-user USER (or WATTPRINT_IPMI_USER)");
    lan.user = *user;
    lan.password =
        password_for("--ipmi-password-file", first_of(flags.ipmi_password_file, config.ipmi_password_file),
                     "WATTPRINT_IPMI_PASSWORD", "--ipmi-host", settings.warnings);
    if (flags.ipmi_cipher_suite) {
      lan.cipher_suite =
          static_cast<int>(parse_number("--ipmi-cipher-suite", *flags.ipmi_cipher_suite, 0, 17));
      if (std::to_string(*lan.cipher_suite) != *flags.ipmi_cipher_suite) {
        throw UsageError(fmt::format("--ipmi-cipher-suite: '{}' is not a whole number from 0 to 17",
                                     *flags.ipmi_cipher_suite));
      }
    } else if (config.ipmi_cipher_suite) {
      lan.cipher_suite = static_cast<int>(*config.ipmi_cipher_suite);
    }
    if (auto privilege = first_of(flags.ipmi_privilege, config.ipmi_privilege)) {
      if (*privilege != "user" && *privilege != "operator" && *privilege != "admin") {
        throw UsageError(
            fmt::format("--ipmi-privilege: '{}' is not one of user, operator, admin", *privilege));
      }
      lan.privilege = *privilege;
    }
    server.ipmi_lan = std::move(lan);
    settings.server_requested = settings.server_requested || server.choice != ServerSourceChoice::None;
  }
  if (auto url = first_of(flags.redfish_url, config.redfish_url)) {
    RedfishOptions redfish;
    redfish.url = *url;
    redfish.timeout = server.timeout;
    redfish.insecure = flags.insecure;
    if (flags.insecure) {
      settings.warnings.emplace_back(
          "--insecure: the Redfish service's TLS certificate is not verified (its readings and your password "
          "could go to an impostor)");
    }
    const auto user = first_of(flags.redfish_user, config.redfish_user, "WATTPRINT_REDFISH_USER");
    if (!user) throw UsageError("--redfish needs --redfish-user USER (or WATTPRINT_REDFISH_USER)");
    redfish.user = *user;
    redfish.password = password_for("--redfish-password-file",
                                    first_of(flags.redfish_password_file, config.redfish_password_file),
                                    "WATTPRINT_REDFISH_PASSWORD", "--redfish", settings.warnings);
    if (auto ca = first_of(flags.redfish_ca, config.redfish_ca)) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(*ca, ec)) {
        throw UsageError(fmt::format("--redfish-ca: {} is not a readable file", *ca));
      }
      redfish.ca_file = *ca;
    }
    server.redfish = std::move(redfish);
    settings.server_requested = settings.server_requested || server.choice != ServerSourceChoice::None;
  } else if (flags.insecure || flags.redfish_ca) {
    throw UsageError(fmt::format("{} applies to Redfish only: give --redfish URL",
                                 flags.insecure ? "--insecure" : "--redfish-ca"));
  }
  if (server.choice == ServerSourceChoice::Redfish && !server.redfish) {
    throw UsageError(
        "--server-source redfish needs --redfish URL (with --redfish-user and --redfish-password-file)");
  }
}

SourceSettings resolve_source_settings(const SourceFlags& flags, const ConfigValues& config) {
  SourceSettings settings;
  settings.sysfs_root = flags.sysfs_root.value_or(config.sysfs_root.value_or("/sys"));
  if (std::error_code ec; !std::filesystem::is_directory(settings.sysfs_root, ec)) {
    throw UsageError(fmt::format("{}: {} is not a directory",
                                 flags.sysfs_root ? "--sysfs-root" : "config sysfs_root",
                                 settings.sysfs_root));
  }
  settings.gpu = gpu_source_options(settings.sysfs_root, flags.nvml_library, flags.rocm_smi_library);
  resolve_server_settings(flags.server, config, settings);
  return settings;
}

namespace {

std::string unusable_rapl_reason(const std::vector<SensorStatus>& statuses) {
  for (const SensorStatus& status : statuses) {
    if (status.state == SensorStatus::State::Ok) continue;
    return fmt::format("no readable RAPL package counter ({}: {})", status.name, status.reason);
  }
  return "no readable RAPL package counter";
}

/// Why no GPU could be measured, from the GPU families' statuses.
std::string unusable_gpu_reason(const std::vector<SensorStatus>& statuses, std::size_t first) {
  std::string reason;
  for (std::size_t i = first; i < statuses.size(); ++i) {
    const SensorStatus& status = statuses[i];
    if (status.state == SensorStatus::State::Ok) continue;
    reason +=
        fmt::format("{}{}: {}", reason.empty() ? "no readable GPU (" : "; ", status.name, status.reason);
  }
  return reason.empty() ? "no GPU found" : reason + ")";
}

// ---- wattprintd (src/sources/daemon): root-only RAPL counters read through the daemon ----
/// When the RAPL zones exist but only root may read them (and nothing else was readable), the same counters
/// through wattprintd at WATTPRINT_DAEMON_SOCKET (default /run/wattprintd.sock, `none`: never) when it
/// answers; else the unreadable zones' remedies also name wattprintd and why it was not used.
/// Returns true when the daemon replaced `rapl`.
bool use_daemon_when_unreadable(std::unique_ptr<EnergyCounterSource>& rapl,
                                std::vector<SensorStatus>& statuses) {
  const auto unreadable = [](const SensorStatus& s) { return s.state == SensorStatus::State::Unreadable; };
  if (!rapl->sensors().empty() || std::none_of(statuses.begin(), statuses.end(), unreadable)) return false;
  std::string note = " (WATTPRINT_DAEMON_SOCKET=none)";
  if (const auto socket = daemon_socket_from_environment()) {
    auto daemon = std::make_unique<DaemonCounterSource>(*socket);
    if (daemon->usable()) {
      statuses = daemon->statuses();
      rapl = std::move(daemon);
      return true;
    }
    note = fmt::format(" ({})", daemon->failure());
  }
  for (SensorStatus& status : statuses) {
    if (unreadable(status))
      status.remedy += "; or ask for wattprintd, which serves the counters to one group" + note;
  }
  return false;
}
// ---- end wattprintd ----

}  // namespace

OpenedSources open_measurement_sources(const SourceSettings& settings) {
  OpenedSources opened;
  opened.counters.push_back(std::make_unique<PowercapRaplSource>(settings.sysfs_root));
  opened.statuses = opened.counters.back()->statuses();
  opened.rapl_reason = unusable_rapl_reason(opened.statuses);
  // ---- CPU energy fallback 1 of 2: the perf power PMU (CAP_PERFMON), when powercap's energy_uj cannot be
  // read. Its statuses join the report when the PMU exists; the sensors' origin names the path that measured.
  {
    const std::size_t perf_first = opened.statuses.size();
    opened.counters.back() = fall_back_to_perf_power(std::move(opened.counters.back()),
                                                     PerfPowerOptions{settings.sysfs_root, "/proc"},
                                                     system_perf_event_syscalls(), opened.statuses);
    for (std::size_t i = perf_first; i < opened.statuses.size(); ++i) {
      if (opened.statuses[i].state == SensorStatus::State::Ok) continue;
      const SensorStatus& perf = opened.statuses[i];
      opened.rapl_reason += fmt::format("; perf power PMU: {}{}", perf.reason,
                                        perf.remedy.empty() ? "" : " (remedy: " + perf.remedy + ")");
      break;
    }
  }
  // ---- end of the perf power PMU fallback.
  // ---- CPU energy fallback 2 of 2: wattprintd, when neither powercap nor perf could be read.
  if (use_daemon_when_unreadable(opened.counters.back(), opened.statuses)) opened.rapl_reason.clear();
  const std::size_t gpu_first = opened.statuses.size();
  for (auto& gpu_source : open_gpu_sources(settings.gpu)) {
    opened.statuses.insert(opened.statuses.end(), gpu_source->statuses().begin(),
                           gpu_source->statuses().end());
    opened.counters.push_back(std::move(gpu_source));
  }
  opened.gpu_reason = unusable_gpu_reason(opened.statuses, gpu_first);
  opened.server = open_server_sources(settings.server);
  opened.statuses.insert(opened.statuses.end(), opened.server.statuses.begin(), opened.server.statuses.end());
  return opened;
}

IdleMeasurement measure_idle(const SourceSettings& settings, Seconds duration, Seconds interval) {
  IdleMeasurement idle;
  OpenedSources sources = open_measurement_sources(settings);
  idle.statuses = sources.statuses;
  idle.server_reason = sources.server.unavailable_reason;
  const ProcFs procfs("/proc");
  ProcessTreeMonitor tree(procfs, ::getpid());
  const SystemClock clock;
  RunSampler sampler(std::move(sources.counters), tree, procfs, clock, interval);
  if (sources.server.source) {
    sampler.attach_server(
        std::make_unique<ServerSampler>(std::move(sources.server.source), clock, settings.server_interval));
  }
  sampler.start();
  std::this_thread::sleep_for(duration);
  idle.measurement = sampler.finish();
  const RunMeasurement& m = idle.measurement;
  if (m.server && !m.server->energy) {
    idle.server_reason = fmt::format("no server reading succeeded ({})", m.server->last_error);
  }
  if (m.duration_s > 0.0 && m.machine_busy_s / m.duration_s > kIdleBusyCoresLimit) {
    idle.warning = fmt::format(
        "the machine was not idle: {:.2f} cores were busy on average during the measurement, and the "
        "baseline "
        "includes that load",
        m.machine_busy_s / m.duration_s);
  }
  return idle;
}

}  // namespace wattprint::cli
