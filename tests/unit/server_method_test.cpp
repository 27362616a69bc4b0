// The server and server-minus-idle methods, and the idle baselines they rest on (JSON, storage, lookup).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "core/error.hpp"
#include "idle/idle_baseline.hpp"
#include "methods/server.hpp"
#include "platform/credentials.hpp"
#include "test_dir.hpp"

namespace wattprint {
namespace {

namespace fs = std::filesystem;

ServerEnergy server_energy(double joules) {
  ServerEnergy s;
  s.family = "ipmi-dcmi";
  s.origin = "IPMI DCMI over lanplus to 127.0.0.1:9623 as admin (cipher suite 3)";
  s.energy = Joules{joules};
  s.readings = 10;
  s.period = Seconds(5.0);
  s.mean_window = Seconds(1.0);
  s.min_power = Watts{150.0};
  s.max_power = Watts{250.0};
  return s;
}

IdleBaseline baseline(double watts) {
  IdleBaseline b;
  b.host = "node1";
  b.server_w = watts;
  b.how = "wattprint idle --duration 60";
  b.measured_at = "2026-11-27T08:00:00Z";
  b.duration_s = 60.0;
  b.server_source = server_energy(0).origin;
  return b;
}

TEST(ServerMethod, IsTheMeasuredServerEnergy) {
  const MethodResult m = server_method(server_energy(72000.0), "");
  ASSERT_TRUE(m.available);
  EXPECT_EQ(m.provenance, Provenance::Measured);
  EXPECT_DOUBLE_EQ(m.it_energy.value, 72000.0);
  EXPECT_DOUBLE_EQ(m.components.server->value, 72000.0);
  EXPECT_FALSE(m.components.cpu);
}

TEST(ServerMethod, UnavailableWithTheReason) {
  EXPECT_EQ(server_method(std::nullopt, "no usable server power source (x)").reason,
            "no usable server power source (x)");
  ServerEnergy failed = server_energy(0);
  failed.energy.reset();
  failed.last_error = "session timeout";
  const MethodResult m = server_method(failed, "");
  EXPECT_FALSE(m.available);
  EXPECT_NE(m.reason.find("session timeout"), std::string::npos);
}

TEST(ServerMinusIdle, SubtractsIdlePowerTimesDuration) {
  // The study's R740: 156 W idle. 400 s at a mean of 256 W: 102400 J − 62400 J = 40000 J.
  std::string warning;
  const MethodResult m =
      server_minus_idle_method(server_energy(102400.0), "", baseline(156.0), "", 400.0, warning);
  ASSERT_TRUE(m.available);
  EXPECT_NEAR(m.it_energy.value, 40000.0, 1e-6);
  EXPECT_TRUE(warning.empty());
  bool mentions_baseline = false;
  for (const auto& [name, value] : m.assumptions) {
    if (name == "idle server power") {
      mentions_baseline = value.find("156.0 W") != std::string::npos &&
                          value.find("2026-11-27T08:00:00Z") != std::string::npos;
    }
  }
  EXPECT_TRUE(mentions_baseline);
}

TEST(ServerMinusIdle, NeverBelowZeroAndWarns) {
  std::string warning;
  const MethodResult m =
      server_minus_idle_method(server_energy(1000.0), "", baseline(156.0), "", 10.0, warning);
  ASSERT_TRUE(m.available);
  EXPECT_DOUBLE_EQ(m.it_energy.value, 0.0);
  EXPECT_NE(warning.find("less than its idle baseline"), std::string::npos);
}

TEST(ServerMinusIdle, NeedsABaselineWithServerPower) {
  std::string warning;
  EXPECT_EQ(server_minus_idle_method(server_energy(1000.0), "", std::nullopt, "no idle baseline for node1",
                                     10.0, warning)
                .reason,
            "no idle baseline for node1");
  IdleBaseline without_server = baseline(0);
  without_server.server_w.reset();
  without_server.cpu_package_w = 40.0;
  const MethodResult m =
      server_minus_idle_method(server_energy(1000.0), "", without_server, "", 10.0, warning);
  EXPECT_FALSE(m.available);
  EXPECT_NE(m.reason.find("no server power"), std::string::npos);
  EXPECT_FALSE(server_minus_idle_method(std::nullopt, "none", baseline(100), "", 10.0, warning).available);
}

TEST(IdleBaseline, FromAMeasurementIsTheMeanPowerOfEachSource) {
  RunMeasurement m;
  m.duration_s = 20.0;
  m.intervals = 20;
  m.machine_busy_s = 1.0;
  m.have_package = true;
  m.package = Joules{800.0};
  m.have_dram = true;
  m.dram = Joules{100.0};
  m.server = server_energy(3120.0);
  GpuEnergy gpu;
  gpu.device.name = "Tesla T4";
  gpu.device.uuid = "GPU-1";
  gpu.energy = Joules{560.0};
  m.gpus.push_back(gpu);
  const IdleBaseline b =
      idle_baseline_from(m, "node1", "2026-11-27T08:00:00Z", "wattprint idle --duration 20");
  EXPECT_DOUBLE_EQ(*b.server_w, 156.0);
  EXPECT_DOUBLE_EQ(*b.cpu_package_w, 40.0);
  EXPECT_DOUBLE_EQ(*b.dram_w, 5.0);
  ASSERT_EQ(b.gpus.size(), 1U);
  EXPECT_DOUBLE_EQ(b.gpus[0].watts, 28.0);
  EXPECT_DOUBLE_EQ(*b.busy_cores, 0.05);
  EXPECT_EQ(b.server_source, m.server->origin);
}

TEST(IdleBaseline, StoredPerHostAndFoundInTheFirstDirectoryThatHasIt) {
  const testing::TestDir dir;
  const fs::path user = dir.path() / "user";
  const fs::path system = dir.path() / "system";
  IdleBaseline b = baseline(156.0);
  b.gpus.push_back({"Tesla T4", "GPU-1", 27.5});
  store_idle_baseline(b, idle_baseline_path(system, "node1"));
  auto loaded = load_idle_baseline({user, system}, "node1");
  ASSERT_TRUE(loaded);
  EXPECT_DOUBLE_EQ(*loaded->server_w, 156.0);
  EXPECT_EQ(loaded->measured_at, "2026-11-27T08:00:00Z");
  EXPECT_EQ(loaded->gpus.at(0).uuid, "GPU-1");
  EXPECT_EQ(loaded->stored_in, idle_baseline_path(system, "node1").string());
  store_idle_baseline(baseline(234.0), idle_baseline_path(user, "node1"));
  EXPECT_DOUBLE_EQ(*load_idle_baseline({user, system}, "node1")->server_w, 234.0);
  EXPECT_FALSE(load_idle_baseline({user, system}, "node2"));
  // No temporary file is left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(user / "idle")) ++files;
  EXPECT_EQ(files, 1U);
}

TEST(IdleBaseline, HostNamesCannotEscapeTheDirectory) {
  EXPECT_EQ(idle_baseline_path("/state", "../../etc/passwd"), fs::path("/state/idle/_._.._etc_passwd.json"));
  EXPECT_EQ(idle_baseline_path("/state", "gpu-node01.cluster"),
            fs::path("/state/idle/gpu-node01.cluster.json"));
}

TEST(IdleBaseline, ACorruptFileIsAnErrorNamingIt) {
  const testing::TestDir dir;
  fs::create_directories(dir.path() / "idle");
  std::ofstream(dir.path() / "idle" / "node1.json") << "{\"schema_version\": 1, \"server_w\": \"lots\"}";
  try {
    (void)load_idle_baseline({dir.path()}, "node1");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("node1.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("server_w"), std::string::npos);
  }
}

TEST(Credentials, OneTrailingNewlineIsNotPartOfThePassword) {
  const testing::TestDir dir;
  const auto read = [&](const std::string& content) {
    const fs::path file = dir.path() / "pw";
    std::ofstream(file, std::ios::trunc) << content;
    ::chmod(file.c_str(), 0600);
    std::string warning;
    Secret secret = read_secret_file("--ipmi-password-file", file, warning);
    EXPECT_TRUE(warning.empty());
    return secret.reveal();
  };
  EXPECT_EQ(read("s3cret\n"), "s3cret");
  EXPECT_EQ(read("s3cret\r\n"), "s3cret");
  EXPECT_EQ(read("s3cret"), "s3cret");
  EXPECT_EQ(read("s3cret\n\n"), "s3cret\n");
  EXPECT_EQ(read(" spaced out \n"), " spaced out ");
}

TEST(Credentials, ErrorsNameTheFileButNeverTheContent) {
  const testing::TestDir dir;
  std::string warning;
  try {
    (void)read_secret_file("--ipmi-password-file", dir.path() / "missing", warning);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--ipmi-password-file: cannot read"), std::string::npos);
  }
  const fs::path empty = dir.path() / "empty";
  std::ofstream(empty) << "\n";
  EXPECT_THROW((void)read_secret_file("--ipmi-password-file", empty, warning), UsageError);
  const fs::path shared = dir.path() / "shared";
  std::ofstream(shared) << "hunter2\n";
  ::chmod(shared.c_str(), 0644);
  const Secret secret = read_secret_file("--ipmi-password-file", shared, warning);
  EXPECT_NE(warning.find("chmod 600"), std::string::npos);
  EXPECT_EQ(warning.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace wattprint
