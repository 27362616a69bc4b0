// The nvidia-smi fallback: the CSV parser on real-looking and broken lines, and the source driven by a
// fake nvidia-smi shell script with known power.
#include "sources/nvml/nvidia_smi.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "test_dir.hpp"

namespace wattprint {
namespace {

namespace fs = std::filesystem;

TEST(NvidiaSmiCsv, ParsesARealLine) {
  const auto s = parse_nvidia_smi_csv_line(
      "2020/12/02 22:37:14.163, 0, NVIDIA H100 80GB HBM3, GPU-4b8c0a3e-1b2c-3d4e-5f60-718293a4b5c6, "
      "00000000:3B:00.0, 83.92, 700.00, 45");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->timestamp_ms);
  EXPECT_EQ(s->index, 0U);
  EXPECT_EQ(s->name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(s->uuid, "GPU-4b8c0a3e-1b2c-3d4e-5f60-718293a4b5c6");
  EXPECT_EQ(s->pci_bus_id, "00000000:3B:00.0");
  ASSERT_TRUE(s->power_draw_w);
  EXPECT_DOUBLE_EQ(*s->power_draw_w, 83.92);
  EXPECT_DOUBLE_EQ(*s->power_limit_w, 700.0);
  EXPECT_DOUBLE_EQ(*s->utilisation_percent, 45.0);
  const auto later = parse_nvidia_smi_csv_line(
      "2020/12/02 22:37:15.063, 0, NVIDIA H100 80GB HBM3, GPU-4b8c, 00000000:3B:00.0, 83.92, 700.00, 45");
  ASSERT_TRUE(later);
  EXPECT_EQ(*later->timestamp_ms - *s->timestamp_ms, 900);
}

TEST(NvidiaSmiCsv, UnavailableFieldsAreEmpty) {
  const auto s = parse_nvidia_smi_csv_line(
      "2024/01/31 23:59:59.999, 1, GeForce GTX 1080, GPU-xyz, 00000000:09:00.0, [N/A], [Not Supported], N/A");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 1U);
  EXPECT_FALSE(s->power_draw_w);
  EXPECT_FALSE(s->power_limit_w);
  EXPECT_FALSE(s->utilisation_percent);
  const auto t = parse_nvidia_smi_csv_line("[N/A], 2, [N/A], [N/A], [N/A], 10.5, [Unknown Error], 3");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->timestamp_ms);
  EXPECT_FALSE(t->name);
  EXPECT_DOUBLE_EQ(*t->power_draw_w, 10.5);
}

TEST(NvidiaSmiCsv, ToleratesUnitsBareCommasAndExtraSpaces) {
  const auto units = parse_nvidia_smi_csv_line(
      "2020/12/02 22:37:14.163, 0, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83 W, 70.00 W, 12 %");
  ASSERT_TRUE(units);
  EXPECT_DOUBLE_EQ(*units->power_draw_w, 27.83);
  EXPECT_DOUBLE_EQ(*units->utilisation_percent, 12.0);
  const auto spaces = parse_nvidia_smi_csv_line(
      "  2020/12/02 22:37:14.163 ,3,Tesla T4,GPU-1 ,  00000000:00:1E.0,27.83,  70.00 ,0\r");
  ASSERT_TRUE(spaces);
  EXPECT_EQ(spaces->index, 3U);
  EXPECT_EQ(spaces->name, "Tesla T4");
  EXPECT_EQ(spaces->uuid, "GPU-1");
  EXPECT_DOUBLE_EQ(*spaces->power_limit_w, 70.0);
}

TEST(NvidiaSmiCsv, GarbageIsRejected) {
  for (const char* line : {
           "",
           "timestamp, index, name, uuid, pci.bus_id, power.draw [W], enforced.power.limit [W], "
           "utilization.gpu [%]",
           "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
           "No devices were found",
           "2020/12/02 22:37:14.163, 0, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83",  // truncated
           "2020/12/02 22:37:14.163, 0, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83, 70, 1, extra",
           "2020/12/02 22:37:14.163, x, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83, 70.00, 1",
           "2020/12/02 22:37:14.163, -1, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83, 70.00, 1",
           "2020/13/02 22:37:14.163, 0, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83, 70.00, 1",
           "2020/02/30 22:37:14.163, 0, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83, 70.00, 1",
           "yesterday, 0, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83, 70.00, 1",
           "2020/12/02 22:37:14.163, 0, Tesla T4, GPU-1, 00000000:00:1E.0, lots, 70.00, 1",
           "2020/12/02 22:37:14.163, 0, Tesla T4, GPU-1, 00000000:00:1E.0, 27.83 kW, 70.00, 1",
           "2020/12/02 22:37:14.163, 0, Tesla T4, GPU-1, 00000000:00:1E.0, nan, 70.00, 1",
           ",,,,,,,",
           "\x01\x02\xff, 0, \xfe, , , 1e999, 2, 3",
       }) {
    EXPECT_FALSE(parse_nvidia_smi_csv_line(line)) << line;
  }
  EXPECT_FALSE(parse_nvidia_smi_timestamp("2020/12/02 22:37:14.1634"));
  EXPECT_FALSE(parse_nvidia_smi_timestamp("2020/12/02 24:00:00"));
  EXPECT_EQ(parse_nvidia_smi_timestamp("1970/01/01 00:00:01.5"), 1500);
  EXPECT_EQ(parse_nvidia_smi_timestamp("1970/01/02 00:00:00"), 86'400'000);
}

TEST(NvidiaSmiCsv, DeviceLines) {
  const auto d = parse_nvidia_smi_device_line("0, Tesla T4, GPU-1, 00000000:00:1E.0, 70.00, 27.83");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "Tesla T4");
  EXPECT_DOUBLE_EQ(*d->power_limit_w, 70.0);
  const auto n = parse_nvidia_smi_device_line("1, GeForce GT 710, GPU-2, 00000000:01:00.0, [N/A], [N/A]");
  ASSERT_TRUE(n);
  EXPECT_FALSE(n->power_draw_w);
  EXPECT_FALSE(parse_nvidia_smi_device_line("No devices were found"));
}

/// A fake nvidia-smi: the device list for the one-shot query; for the looping query, GPU 0 at 50 W and GPU 1
/// at 120 W every 50 ms (with a timestamp from `date`); `pid` for --query-compute-apps on GPU 0.
fs::path fake_smi(const fs::path& dir, pid_t pid) {
  const fs::path script = dir / "nvidia-smi";
  std::ofstream(script) << R"(#!/bin/sh
case "$*" in
  *--query-gpu=index,*)
    echo "0, Fake GPU A, GPU-aaaa, 00000000:3B:00.0, 300.00, 49.00"
    echo "1, Fake GPU B, GPU-bbbb, 00000000:5E:00.0, [N/A], 118.00"
    echo "2, Fake GPU C, GPU-cccc, 00000000:86:00.0, [N/A], [N/A]"
    exit 0 ;;
  *--query-compute-apps*)
    echo ")" << pid << R"(, GPU-aaaa"
    echo "1, GPU-zzzz"
    exit 0 ;;
  *-lms*)
    while :; do
      ts=$(date +"%Y/%m/%d %H:%M:%S.%3N")
      echo "$ts, 0, Fake GPU A, GPU-aaaa, 00000000:3B:00.0, 50.00, 300.00, 40"
      echo "$ts, 1, Fake GPU B, GPU-bbbb, 00000000:5E:00.0, 120.00, [N/A], [N/A]"
      echo "$ts, 2, Fake GPU C, GPU-cccc, 00000000:86:00.0, [N/A], [N/A], 0"
      sleep 0.05
    done ;;
esac
exit 9
)";
  ::chmod(script.c_str(), 0755);
  return script;
}

TEST(NvidiaSmiSource, MissingExecutableIsAbsent) {
  NvidiaSmiOptions options;
  options.executable = "wattprint-no-such-nvidia-smi";
  const NvidiaSmiSource source(options);
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Absent);
  EXPECT_FALSE(source.statuses()[0].remedy.empty());
  EXPECT_TRUE(source.devices().empty());
  options.executable = "/nonexistent/nvidia-smi";
  EXPECT_EQ(NvidiaSmiSource(options).statuses()[0].state, SensorStatus::State::Absent);
}

TEST(NvidiaSmiSource, FailingQueryIsAnError) {
  testing::TestDir dir;
  const fs::path script = dir.path() / "nvidia-smi";
  std::ofstream(script) << "#!/bin/sh\necho \"NVIDIA-SMI has failed because it couldn't communicate with the "
                           "NVIDIA driver.\"\nexit 9\n";
  ::chmod(script.c_str(), 0755);
  NvidiaSmiOptions options;
  options.executable = script.string();
  const NvidiaSmiSource source(options);
  ASSERT_EQ(source.statuses().size(), 1U);
  EXPECT_EQ(source.statuses()[0].state, SensorStatus::State::Error);
  EXPECT_NE(source.statuses()[0].reason.find("couldn't communicate"), std::string::npos);
}

TEST(NvidiaSmiSource, IntegratesTheScriptsKnownPower) {
  testing::TestDir dir;
  fake_smi(dir.path(), ::getpid());
  NvidiaSmiOptions options;
  options.executable = "nvidia-smi";  // found through PATH
  options.period = std::chrono::milliseconds(50);
  options.apps_period = std::chrono::milliseconds(100);
  const std::string old_path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir.path().string() + ":" + old_path).c_str(), 1);
  NvidiaSmiSource source(options);
  ::setenv("PATH", old_path.c_str(), 1);

  ASSERT_EQ(source.devices().size(), 2U);  // GPU 2 reports no power
  EXPECT_EQ(source.devices()[0].family, "nvidia-smi");
  EXPECT_EQ(source.devices()[0].name, "Fake GPU A");
  EXPECT_EQ(source.devices()[0].uuid, "GPU-aaaa");
  EXPECT_EQ(source.devices()[0].pci_bus_id, "00000000:3B:00.0");
  ASSERT_TRUE(source.devices()[0].power_limit);
  EXPECT_DOUBLE_EQ(source.devices()[0].power_limit->value, 300.0);
  EXPECT_FALSE(source.devices()[1].power_limit);
  EXPECT_NE(source.devices()[0].energy_method.find("1-s average"), std::string::npos);
  ASSERT_EQ(source.sensors().size(), 2U);
  EXPECT_EQ(source.sensors()[0].name, "nvidia-smi.gpu-0");
  EXPECT_EQ(source.sensors()[1].name, "nvidia-smi.gpu-1");
  EXPECT_DOUBLE_EQ(source.sensors()[0].joules_per_raw_unit, 1e-3);
  ASSERT_EQ(source.statuses().size(), 3U);
  EXPECT_EQ(source.statuses()[2].name, "nvidia-smi.gpu-2");
  EXPECT_EQ(source.statuses()[2].state, SensorStatus::State::Absent);

  std::vector<std::uint64_t> before(2);
  std::vector<std::uint64_t> after(2);
  std::vector<int> errors(2);
  source.read(before, errors);
  EXPECT_EQ(errors[0], 0);
  EXPECT_EQ(errors[1], 0);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  source.read(after, errors);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(errors[0], 0);
  // The counters advance on the samples' timestamps, a sample period or so behind the reads.
  const double gpu0 = static_cast<double>(after[0] - before[0]) * 1e-3;
  const double gpu1 = static_cast<double>(after[1] - before[1]) * 1e-3;
  EXPECT_NEAR(gpu0, 50.0 * seconds, 50.0 * 0.25);
  EXPECT_NEAR(gpu1, 120.0 * seconds, 120.0 * 0.25);
  EXPECT_NEAR(gpu1 / gpu0, 2.4, 0.1);

  std::vector<GpuActivity> activity(2);
  source.sample_activity(activity);
  ASSERT_TRUE(activity[0].utilisation_percent);
  EXPECT_DOUBLE_EQ(*activity[0].utilisation_percent, 40.0);
  EXPECT_FALSE(activity[1].utilisation_percent);
  EXPECT_FALSE(activity[0].per_process_utilisation);
  ASSERT_EQ(activity[0].processes.size(), 1U);
  EXPECT_EQ(activity[0].processes[0].pid, ::getpid());
  EXPECT_TRUE(activity[1].processes.empty());
}

TEST(NvidiaSmiSource, DestructorEndsTheChildren) {
  testing::TestDir dir;
  NvidiaSmiOptions options;
  options.executable = fake_smi(dir.path(), 1).string();
  options.period = std::chrono::milliseconds(50);
  const auto t0 = std::chrono::steady_clock::now();
  {
    const NvidiaSmiSource source(options);
    ASSERT_EQ(source.devices().size(), 2U);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  // Every child reaped: nothing left to wait for.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

}  // namespace
}  // namespace wattprint
