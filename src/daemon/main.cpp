// wattprintd: serves the root-only RAPL energy counters (energy_uj, mode 0400 since Linux 5.10) to the
// members of one group over a Unix socket, read-only, so that `wattprint run` measures without root.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "daemon/access.hpp"
#include "daemon/protocol.hpp"
#include "daemon/server.hpp"
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
};

int serve(const Flags& flags) {
  using namespace wattprint;
  using namespace wattprint::daemon;
  const SystemGroupDatabase groups;
  const gid_t gid = resolve_group(flags.group, groups);
  const std::string label = flags.group == std::to_string(gid)
                                ? "gid " + flags.group
                                : flags.group + " (gid " + std::to_string(gid) + ")";
  PowercapRaplSource rapl(flags.sysfs_root);
  if (rapl.sensors().empty()) {
    std::string why;
    for (const SensorStatus& status : rapl.statuses()) why += "; " + status.name + ": " + status.reason;
    std::fprintf(stderr, "wattprintd: no readable RAPL counter under %s%s\n", flags.sysfs_root.c_str(),
                 why.c_str());
    return 1;
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
  const SystemClock clock;
  int status = 0;
  {
    Server server(listen_fd, rapl, groups, clock, options);
    std::fprintf(stderr, "wattprintd %s: serving %zu RAPL counters of %s on %s to group %s\n",
                 WATTPRINT_VERSION, rapl.sensors().size(), flags.sysfs_root.c_str(),
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
      "(CVE-2020-8694), to the members of one group over a Unix socket, so that `wattprint run` measures "
      "CPU package and DRAM energy without root. Read-only: clients can ask for the sensor list (HELLO) and "
      "the raw counters (READ), nothing else; no path or other argument ever comes from a client.",
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
  app.footer(
      "Clients: `wattprint run` uses wattprintd by itself when the counters are root-only, at "
      "/run/wattprintd.sock or WATTPRINT_DAEMON_SOCKET (`none` turns it off). Refused connections are logged "
      "to stderr, at most one a second. SIGTERM or SIGINT: exit 0. See docs/permissions.md.");
  CLI11_PARSE(app, argc, argv);
  try {
    return serve(flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wattprintd: %s\n", e.what());
    return 1;
  }
}
