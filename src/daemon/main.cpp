// wattprintd: serves the root-only RAPL energy counters (energy_uj, mode 0400 since Linux 5.10) and the
// whole-server power of the BMC (root-only /dev/ipmi0, or a BMC whose password only root holds) to the
// members of one group over a Unix socket, read-only, so that `wattprint run` measures without root.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/measurement_sources.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "daemon/access.hpp"
#include "daemon/protocol.hpp"
#include "daemon/server.hpp"
#include "daemon/server_power_poller.hpp"
#include "sources/rapl/powercap_rapl.hpp"

#ifndef WATTPRINT_VERSION
#define WATTPRINT_VERSION "0.0.0"
#endif

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int /*signal*/) { g_stop = 1; }

struct Flags {
  std::string socket = "/run/wattprintd.sock";
  std::string group = "wattprint";
  std::string sysfs_root = "/sys";
  std::size_t max_connections = 64;
  std::size_t max_per_user = 16;
  double rate = 50.0;
  double burst = 50.0;
  wattprint::cli::ServerFlags server;
};

/// How often the daemon reads the server's power meter unless --server-interval says otherwise: often
/// enough that a client reading every second or more gets a fresh value.
constexpr double kDaemonServerIntervalS = 1.0;

/// The whole-server power meter the daemon serves, read on its own thread; null (with the reason) when there
/// is none. Throws UsageError for bad flags, std::runtime_error when a meter asked for is unusable.
std::unique_ptr<wattprint::daemon::ServerPowerPoller> open_server_power(const Flags& flags,
                                                                        const wattprint::Clock& clock,
                                                                        std::string& unavailable) {
  using namespace wattprint;
  cli::SourceSettings settings;
  settings.sysfs_root = flags.sysfs_root;
  ConfigValues defaults;
  defaults.server_interval_s = kDaemonServerIntervalS;
  cli::resolve_server_settings(flags.server, defaults, settings);
  settings.server.daemon_socket.reset();  // never itself
  for (const std::string& warning : settings.warnings)
    std::fprintf(stderr, "wattprintd: %s\n", warning.c_str());
  ServerSources opened = open_server_sources(settings.server);
  if (!opened.source) {
    if (settings.server_requested) throw std::runtime_error(opened.unavailable_reason);
    unavailable = opened.unavailable_reason;
    return nullptr;
  }
  auto poller = std::make_unique<daemon::ServerPowerPoller>(
      std::move(opened.source), settings.server_interval, settings.server.timeout, clock);
  poller->start();
  return poller;
}

int serve(const Flags& flags) {
  using namespace wattprint;
  using namespace wattprint::daemon;
  const SystemGroupDatabase groups;
  const gid_t gid = resolve_group(flags.group, groups);
  const std::string label = flags.group == std::to_string(gid)
                                ? "gid " + flags.group
                                : flags.group + " (gid " + std::to_string(gid) + ")";
  const SystemClock clock;
  PowercapRaplSource rapl(flags.sysfs_root);
  std::string no_server_power;
  const auto server_power = open_server_power(flags, clock, no_server_power);
  if (rapl.sensors().empty()) {
    std::string why;
    for (const SensorStatus& status : rapl.statuses()) why += "; " + status.name + ": " + status.reason;
    if (!server_power) {
      std::fprintf(stderr, "wattprintd: nothing to serve: no readable RAPL counter under %s%s; %s\n",
                   flags.sysfs_root.c_str(), why.c_str(), no_server_power.c_str());
      return 1;
    }
    std::fprintf(stderr, "wattprintd: no readable RAPL counter under %s%s: serving the server power only\n",
                 flags.sysfs_root.c_str(), why.c_str());
  }
  if (rapl.sensors().size() > kMaxSensors) {
    std::fprintf(stderr, "wattprintd: serving the first %zu of %zu sensors\n", kMaxSensors,
                 rapl.sensors().size());
  }

  // SIGTERM and SIGINT are blocked except inside ppoll, which they interrupt: no lost wake-up.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigset_t poll_mask;
  sigprocmask(SIG_BLOCK, &stop_signals, &poll_mask);
  sigdelset(&poll_mask, SIGTERM);
  sigdelset(&poll_mask, SIGINT);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const std::optional<int> activated = systemd_listen_fd();
  const int listen_fd = activated ? *activated : listen_on_path(flags.socket, gid);
  ServerOptions options;
  options.group = gid;
  options.group_label = label;
  options.limits = {flags.max_connections, flags.max_per_user, flags.rate, flags.burst};
  options.server_power = server_power.get();
  if (!server_power) options.no_server_power_reason = no_server_power;
  int status = 0;
  {
    Server server(listen_fd, rapl, groups, clock, options);
    std::fprintf(stderr, "wattprintd %s: serving %zu RAPL counters of %s and %s on %s to group %s\n",
                 WATTPRINT_VERSION, rapl.sensors().size(), flags.sysfs_root.c_str(),
                 server_power ? ("the server power of " + server_power->origin()).c_str()
                              : ("no server power (" + no_server_power + ")").c_str(),
                 activated ? "the socket systemd passed (fd 3)" : flags.socket.c_str(), label.c_str());
    status = server.run(g_stop, poll_mask);
  }
  ::close(listen_fd);
  if (!activated) ::unlink(flags.socket.c_str());
  std::fprintf(stderr, "wattprintd: stopped\n");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "wattprintd: serves the RAPL energy counters, which Linux 5.10 and later let only root read "
      "(CVE-2020-8694), and the whole-server power of the BMC (the root-only /dev/ipmi0, or a BMC over the "
      "network whose password only root holds) to the members of one group over a Unix socket, so that "
      "`wattprint run` measures CPU package, DRAM and server energy without root. Read-only: clients can ask "
      "for the sensor list (HELLO), the raw counters (READ), the server power meter (SERVER) and its latest "
      "reading (POWER), nothing else; no path or other argument ever comes from a client.",
      "wattprintd"};
  app.set_version_flag("--version", std::string("wattprintd ") + WATTPRINT_VERSION);
  app.add_option(
         "--socket", flags.socket,
         "Create and listen on this socket (mode 0660, group --group; removed at exit). Ignored under "
         "systemd socket activation (LISTEN_FDS, fd 3: wattprintd.socket)")
      ->capture_default_str()
      ->type_name("PATH");
  app.add_option(
         "--group", flags.group,
         "Only root and members of this group (name or number; primary or supplementary) may connect. "
         "Create it with `groupadd --system wattprint`")
      ->capture_default_str()
      ->type_name("NAME|GID");
  app.add_option("--sysfs-root", flags.sysfs_root,
                 "Read the powercap tree under this directory in place of /sys")
      ->capture_default_str()
      ->type_name("DIR");
  app.add_option("--max-connections", flags.max_connections, "Most clients connected at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--max-per-user", flags.max_per_user, "Most connections of one user at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option(
         "--rate", flags.rate,
         "Requests per second one connection may make on average (a wattprint run makes at most about "
         "20); a client over it gets an error and is disconnected")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 100000.0));
  app.add_option("--burst", flags.burst, "Requests one connection may make at once before --rate applies")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 100000.0));
  wattprint::cli::add_server_flags(app, flags.server, kDaemonServerIntervalS);
  app.footer(
      "Server power: the first usable of a BMC over the network (--ipmi-host, --redfish), the local BMC "
      "(--ipmi-device) and the ACPI power meter is read every --server-interval seconds on its own thread; "
      "clients get its latest reading. None usable: only the counters are served (an error when a source was "
      "named or configured). --server-source none: no server power.\n"
      "Clients: `wattprint run` uses wattprintd by itself when the counters or the local BMC are root-only, "
      "at /run/wattprintd.sock or WATTPRINT_DAEMON_SOCKET (`none` turns it off). Refused connections are "
      "logged to stderr, at most one a second. SIGTERM or SIGINT: exit 0. See docs/permissions.md.");
  CLI11_PARSE(app, argc, argv);
  try {
    return serve(flags);
  } catch (const wattprint::UsageError& e) {
    std::fprintf(stderr, "wattprintd: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wattprintd: %s\n", e.what());
    return 1;
  }
}
