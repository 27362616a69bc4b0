// A real BMC for tests: OpenIPMI's simulator (ipmi_sim) on a free UDP port of 127.0.0.1, answering DCMI Get
// Power Reading through the test module tests/fakes/ipmi_sim_dcmi_module.c (docs/sensors.md section 7.5).
// The test steers the answer (power, completion code, period, measurement state) through a control file the
// module re-reads on every request, and can make the BMC stop answering (SIGSTOP).
//
// Usage:
//   if (auto why = IpmiSimulator::unavailable_reason()) GTEST_SKIP() << *why;
//   IpmiSimulator sim;                       // starts it; waits (bounded) until it answers
//   ASSERT_TRUE(sim.running()) << sim.error();
//   sim.set_power_watts(250);                // then e.g. ipmitool -I lanplus -C 3 -H 127.0.0.1 -p sim.port()
//                                            //   -U sim.user() -P sim.password() dcmi power reading
//
// The module's path comes from the compile definition WATTPRINT_IPMI_SIM_DCMI_MODULE of the
// `ipmi_simulator_fixture` library (link that target to use this class); the environment variables
// WATTPRINT_IPMI_SIM_DCMI_MODULE and WATTPRINT_IPMI_SIM (the simulator binary, default /usr/bin/ipmi_sim)
// override them. The simulator is killed when the thread that started it exits (PR_SET_PDEATHSIG), so a
// crashed test leaves none behind: create it on the thread that uses it (the test body, as usual). The
// simulator allows only admin sessions for DCMI (lanserv's rule for NetFn > 0x0C): a session at privilege
// user gets completion code 0xD4. Cipher suite 17 is not offered (use 3); the freeipmi open-session-privilege
// workaround is needed (see the section 7.5 notes).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace wattprint::testing {

class IpmiSimulator {
 public:
  /// Starts the simulator with one admin account `user` / `password` (no quotes or spaces in them). On
  /// failure running() is false and error() says why (with the simulator's log).
  explicit IpmiSimulator(std::string user = "ipmiusr", std::string password = "test");
  /// Stops the simulator (SIGCONT, SIGTERM, up to 5 s wait, then SIGKILL) and removes its directory.
  ~IpmiSimulator();
  IpmiSimulator(const IpmiSimulator&) = delete;
  IpmiSimulator& operator=(const IpmiSimulator&) = delete;

  /// Why no simulator can run here (binary or module missing), for GTEST_SKIP; nullopt when it can.
  /// Aborts instead when WATTPRINT_REQUIRE_SIMULATORS is set (CI), so a missing package cannot hide as a
  /// skip.
  static std::optional<std::string> unavailable_reason();
  /// The simulator binary and the DCMI module used.
  static std::string simulator_path();
  static std::string module_path();

  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] int port() const noexcept { return port_; }
  /// "127.0.0.1:PORT", the form libfreeipmi and IpmiLanOptions::host take.
  [[nodiscard]] std::string host() const;
  [[nodiscard]] const std::string& user() const noexcept { return user_; }
  [[nodiscard]] const std::string& password() const noexcept { return password_; }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] const std::filesystem::path& directory() const noexcept { return dir_; }
  /// The simulator's stdout and stderr so far.
  [[nodiscard]] std::string log() const;

  /// Current, minimum, maximum and average power, W (0..65535). Default 123 W.
  void set_power_watts(unsigned watts);
  /// The average alone (after set_power_watts), to tell the average from the current power.
  void set_average_watts(unsigned watts);
  /// Answer every power reading with this completion code (0 = normal readings again).
  void set_completion_code(std::uint8_t code);
  /// Statistics reporting period, ms. Default 1000.
  void set_period_ms(std::uint32_t period_ms);
  /// Power measurement state bit. Default active.
  void set_measurement_active(bool active);
  /// SIGSTOP / SIGCONT: the BMC stops answering (requests time out) and comes back.
  void pause();
  void resume();

 private:
  static std::optional<std::string> missing_parts();
  bool start_once(std::string& why);
  bool wait_until_answering(std::string& why);
  void stop() noexcept;
  void write_control() const;

  std::string user_;
  std::string password_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
  std::string error_;
  unsigned current_w_ = 123;
  unsigned minimum_w_ = 123;
  unsigned maximum_w_ = 123;
  unsigned average_w_ = 123;
  unsigned completion_code_ = 0;
  std::uint32_t period_ms_ = 1000;
  bool active_ = true;
};

}  // namespace wattprint::testing
