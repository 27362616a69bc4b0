// Counter differencing: wraps at max_energy_range_uj, resets, read errors and gaps.
#include "energy/counter_track.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace wattprint {
namespace {

SensorInfo zone(std::uint64_t max, std::optional<double> max_watts) {
  SensorInfo info;
  info.name = "rapl.package-0";
  info.counter_max = max;
  info.joules_per_raw_unit = 1e-6;
  if (max_watts) info.max_power = Watts{*max_watts};
  return info;
}

TEST(CounterDifference, AdvancesWithoutWrap) {
  const auto d = counter_difference(100, 350, 1000);
  EXPECT_EQ(d.raw, 250U);
  EXPECT_FALSE(d.wrapped);
}

TEST(CounterDifference, WrapUsesTheZoneRange) {
  // Intel ESU 14 range, counter passed the top: (max - prev) + now.
  const std::uint64_t max = 262143328850ULL;
  const auto d = counter_difference(max - 1000, 500, max);
  EXPECT_TRUE(d.wrapped);
  EXPECT_EQ(d.raw, 1500U);
}

TEST(CounterTrack, SumsStepsAndWraps) {
  // Range 10 J, max power 2 W (plausible up to 8 W, safe read period 0.625 s); a 4 W load read every 0.4 s.
  //   t (s):      0      0.4          0.8 (wrapped)           1.2
  //   raw (µJ):   8.0e6  9.6e6 +1.6 J  1.2e6 +(0.4 + 1.2) J   2.8e6 +1.6 J
  CounterTrack track(zone(10'000'000, 2.0));
  EXPECT_DOUBLE_EQ(track.update(0.0, 8'000'000, 0).value, 0.0);
  EXPECT_NEAR(track.update(0.4, 9'600'000, 0).value, 1.6, 1e-9);
  EXPECT_NEAR(track.update(0.8, 1'200'000, 0).value, 1.6, 1e-9);
  EXPECT_NEAR(track.update(1.2, 2'800'000, 0).value, 1.6, 1e-9);
  EXPECT_NEAR(track.total().value, 4.8, 1e-9);
  EXPECT_TRUE(track.degraded_spans().empty());
}

TEST(CounterTrack, ReadsFurtherApartThanTheSafePeriodAreFlagged) {
  CounterTrack track(zone(10'000'000, 5.0));
  track.update(0.0, 1'000'000, 0);
  EXPECT_NEAR(track.update(2.0, 9'000'000, 0).value, 8.0, 1e-9);  // kept, but a wrap may have been missed
  ASSERT_EQ(track.degraded_spans().size(), 1U);
  EXPECT_NE(track.degraded_spans()[0].error.find("wrap may be missed"), std::string::npos);
}

TEST(CounterTrack, BackwardsWithoutPlausibleWrapAddsNothing) {
  // Range 262 kJ, max power 100 W (plausible ≤ 400 W): 5 kJ to 4 kJ in 1 s would mean 261 kJ in 1 s.
  CounterTrack track(zone(262143328850ULL, 100.0));
  track.update(0.0, 5'000'000'000ULL, 0);
  EXPECT_DOUBLE_EQ(track.update(1.0, 4'000'000'000ULL, 0).value, 0.0);
  ASSERT_EQ(track.degraded_spans().size(), 1U);
  EXPECT_NE(track.degraded_spans()[0].error.find("backwards"), std::string::npos);
  // Resynchronised: the next step counts normally.
  EXPECT_NEAR(track.update(2.0, 4'050'000'000ULL, 0).value, 50.0, 1e-9);
  EXPECT_NEAR(track.total().value, 50.0, 1e-9);
}

TEST(CounterTrack, ReadErrorsOpenASpanAndShortGapsKeepTheirEnergy) {
  CounterTrack track(zone(262143328850ULL, 100.0));  // safe period 1310 s
  track.update(0.0, 1'000'000, 0);
  EXPECT_DOUBLE_EQ(track.update(1.0, 0, EIO).value, 0.0);
  EXPECT_DOUBLE_EQ(track.update(2.0, 0, EIO).value, 0.0);
  // Back after 3 s: the counter kept counting, so the 30 J in the gap are real.
  EXPECT_NEAR(track.update(3.0, 31'000'000, 0).value, 30.0, 1e-9);
  ASSERT_EQ(track.degraded_spans().size(), 1U);
  EXPECT_DOUBLE_EQ(track.degraded_spans()[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(track.degraded_spans()[0].end_s, 3.0);
}

TEST(CounterTrack, GapLongerThanTheWrapPeriodDropsItsEnergy) {
  CounterTrack track(zone(10'000'000, 10.0));  // 10 J range at ≤ 40 W plausible: safe period 0.125 s
  track.update(0.0, 1'000'000, 0);
  track.update(0.1, 0, ENOENT);
  EXPECT_DOUBLE_EQ(track.update(5.0, 3'000'000, 0).value, 0.0);
  EXPECT_DOUBLE_EQ(track.total().value, 0.0);
  ASSERT_FALSE(track.degraded_spans().empty());
}

TEST(CounterTrack, GarbageIsReportedAsNotANumber) {
  CounterTrack track(zone(10'000'000, 10.0));
  track.update(0.0, 1, 0);
  track.update(0.01, 0, EBADMSG);
  ASSERT_EQ(track.degraded_spans().size(), 1U);
  EXPECT_EQ(track.degraded_spans()[0].error, "value is not a number");
}

TEST(CounterTrack, ResynchroniseAfterSuspendAddsNothingAndKeepsCounting) {
  // 100 W plausible ≤ 400 W. Before the suspend 10 J/s; the machine slept between t = 1 s and t = 1.1 s of
  // running time and the counter gained 35 J meanwhile (350 W over 0.1 s: plausible, update() would add it).
  CounterTrack track(zone(262143328850ULL, 100.0));
  track.update(0.0, 1'000'000'000ULL, 0);
  EXPECT_NEAR(track.update(1.0, 1'010'000'000ULL, 0).value, 10.0, 1e-9);
  track.resynchronise(1.1, 1'046'000'000ULL, 0);
  EXPECT_NEAR(track.total().value, 10.0, 1e-9);
  EXPECT_NEAR(track.update(2.1, 1'056'000'000ULL, 0).value, 10.0, 1e-9);
  EXPECT_NEAR(track.total().value, 20.0, 1e-9);
  EXPECT_TRUE(track.degraded_spans().empty());
  // A counter that restarted during the suspend (lower value) is a new start, not a wrap nor a reset.
  track.resynchronise(3.0, 5'000'000ULL, 0);
  EXPECT_NEAR(track.update(4.0, 15'000'000ULL, 0).value, 10.0, 1e-9);
  EXPECT_NEAR(track.total().value, 30.0, 1e-9);
  EXPECT_TRUE(track.degraded_spans().empty());
}

TEST(CounterTrack, ResynchroniseOnAReadErrorStartsAtTheNextGoodReading) {
  CounterTrack track(zone(262143328850ULL, 100.0));
  track.update(0.0, 1'000'000, 0);
  track.resynchronise(1.0, 0, EIO);
  ASSERT_EQ(track.degraded_spans().size(), 1U);
  // The next good reading is the new start: what the counter gained over the suspend is not added.
  EXPECT_DOUBLE_EQ(track.update(1.5, 41'000'000, 0).value, 0.0);
  EXPECT_NEAR(track.update(2.5, 51'000'000, 0).value, 10.0, 1e-9);
  EXPECT_NEAR(track.total().value, 10.0, 1e-9);
  ASSERT_EQ(track.degraded_spans().size(), 1U);
  EXPECT_DOUBLE_EQ(track.degraded_spans()[0].end_s, 1.5);
}

TEST(CounterTrack, SafePeriodComesFromRangeAndMaxPower) {
  EXPECT_NEAR(CounterTrack(zone(262143328850ULL, 125.0)).safe_read_period_s(), 262143.32885 / 1000.0, 1e-6);
  // No max power from the kernel: assume at most 1 kW per zone.
  EXPECT_NEAR(CounterTrack(zone(65532610987ULL, std::nullopt)).safe_read_period_s(), 65532.610987 / 2000.0,
              1e-6);
}

}  // namespace
}  // namespace wattprint
