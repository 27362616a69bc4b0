// A live local HTTPS Redfish service for tests: runs tests/fakes/redfish_server.py (python3 standard library)
// with a throwaway self-signed certificate for 127.0.0.1, HTTP Basic auth, and a control file that the
// setters below rewrite atomically (the server re-reads it on every request).
//
// Use:
//   if (auto why = RedfishServer::unavailable()) GTEST_SKIP() << *why;   // no python3 or openssl
//   RedfishServer server;                                                  // legacy variant, 344 W
//   ASSERT_TRUE(server.started()) << server.error();
//   ... --redfish-url server.url() --redfish-ca server.ca_file() --redfish-user server.user()
//       --redfish-password-file server.password_file() ...
//
// Build: link the CMake target `redfish_server_fixture` (tests/CMakeLists.txt); it carries the script's path.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wattprint::testing {

class RedfishServer {
 public:
  struct Options {
    /// "legacy" (Chassis/1U/Power PowerControl[0].PowerConsumedWatts), "environment"
    /// (EnvironmentMetrics PowerWatts.Reading) or "power-subsystem" (two power supplies' Metrics
    /// InputPowerWatts.Reading, adding up to the power, and an empty third bay), or "none" (no power
    /// reading anywhere: EnvironmentMetrics without PowerWatts, PowerConsumedWatts null).
    std::string variant = "legacy";
    double power_watts = 344.0;
    std::string user = "wattprint";
    std::string password = "s3cr3t-Pa55word";
  };

  /// Why the server cannot run on this machine (python3 or openssl not on PATH); nullopt when it can.
  /// Aborts instead when WATTPRINT_REQUIRE_SIMULATORS is set (CI), so a missing package cannot hide as a
  /// skip.
  static std::optional<std::string> unavailable();

  /// Makes the certificate, starts the server and waits (at most 15 s) until it listens. Never throws:
  /// check started() and error().
  RedfishServer();
  explicit RedfishServer(Options options);
  /// Stops the server (SIGTERM, then SIGKILL after 2 s) and removes its directory.
  ~RedfishServer();
  RedfishServer(const RedfishServer&) = delete;
  RedfishServer& operator=(const RedfishServer&) = delete;
  RedfishServer(RedfishServer&&) = delete;
  RedfishServer& operator=(RedfishServer&&) = delete;

  [[nodiscard]] bool started() const { return port_ > 0; }
  /// Why it did not start, with the server's and openssl's output.
  [[nodiscard]] const std::string& error() const { return error_; }

  [[nodiscard]] int port() const { return port_; }
  /// The service root: "https://127.0.0.1:PORT".
  [[nodiscard]] std::string url() const;
  /// The one chassis: "https://127.0.0.1:PORT/redfish/v1/Chassis/1U".
  [[nodiscard]] std::string chassis_url() const;
  /// The self-signed certificate (PEM), to trust as the CA (--redfish-ca).
  [[nodiscard]] std::string ca_file() const;
  [[nodiscard]] const std::string& user() const { return options_.user; }
  [[nodiscard]] const std::string& password() const { return options_.password; }
  /// A file holding the password and a newline (--redfish-password-file).
  [[nodiscard]] std::string password_file() const;

  /// Steering, effective from the next request. Each rewrites the whole control file atomically.
  void set_variant(const std::string& variant);
  void set_power_watts(double watts);
  /// Sleep this long before answering each request (auth failures included).
  void set_delay_s(double seconds);
  /// Answer 200 with a truncated JSON body.
  void set_malformed(bool malformed);
  /// Answer every authenticated request with this HTTP status (0: normal answers); a 3xx comes with a
  /// Location on another host (https://redirected.invalid/...).
  void set_status(int status);

  /// Every request received so far, in order: "GET /redfish/v1/Chassis/1U/Power 51234" (path, then the
  /// client's TCP port: equal ports are one kept-alive connection).
  [[nodiscard]] std::vector<std::string> requests() const;
  void clear_requests();

 private:
  void start();
  void write_control();
  [[nodiscard]] std::filesystem::path file(const char* name) const { return dir_ / name; }

  Options options_;
  double delay_s_ = 0.0;
  bool malformed_ = false;
  int status_ = 0;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace wattprint::testing
