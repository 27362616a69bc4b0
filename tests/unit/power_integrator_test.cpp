// Power readings → energy: window midpoints, interpolation, flat ends, failures as degraded spans.
#include "energy/power_integrator.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace wattprint {
namespace {

TEST(PowerIntegrator, ConstantPowerGivesPowerTimesDuration) {
  PowerIntegrator p;
  for (int i = 0; i <= 10; ++i) p.add(i * 1.0, Watts{200.0}, Seconds(1.0));
  const auto energy = p.finish(10.0);
  ASSERT_TRUE(energy);
  EXPECT_NEAR(energy->value, 2000.0, 1e-9);
  EXPECT_EQ(p.readings(), 11U);
  EXPECT_DOUBLE_EQ(p.mean_window().count(), 1.0);
}

TEST(PowerIntegrator, InstantaneousReadingsFollowTheTrapezoidRule) {
  PowerIntegrator p;
  p.add(0.0, Watts{100.0}, Seconds(0.0));
  p.add(2.0, Watts{300.0}, Seconds(0.0));
  p.add(4.0, Watts{300.0}, Seconds(0.0));
  EXPECT_NEAR(p.finish(4.0)->value, 0.5 * (100 + 300) * 2 + 300 * 2, 1e-9);
}

TEST(PowerIntegrator, AveragesArePlacedAtTheMiddleOfTheirWindow) {
  // A step from 100 W to 300 W at t = 5 s, read every second as 1-s averages (each reading at t is the mean
  // over [t-1, t]): the integral must be exact, 100 × 5 + 300 × 5.
  PowerIntegrator p;
  for (int i = 0; i <= 10; ++i) {
    const double t = i;
    const double mean = t <= 5.0 ? 100.0 : (t - 1.0 >= 5.0 ? 300.0 : 200.0);
    p.add(t, Watts{mean}, Seconds(1.0));
  }
  EXPECT_NEAR(p.finish(10.0)->value, 2000.0, 1e-9);
  // Taken as instantaneous values at the time of reading, the same readings would lag by half a window.
  PowerIntegrator lagging;
  for (int i = 0; i <= 10; ++i) {
    const double t = i;
    const double mean = t <= 5.0 ? 100.0 : (t - 1.0 >= 5.0 ? 300.0 : 200.0);
    lagging.add(t, Watts{mean}, Seconds(0.0));
  }
  EXPECT_NEAR(lagging.finish(10.0)->value, 1900.0, 1e-9);
}

TEST(PowerIntegrator, LinearRampIsExactWithWindowedAverages) {
  // P(t) = 100 + 10 t; a reading at t averaging over w is P(t - w/2).
  const double w = 2.0;
  PowerIntegrator p;
  for (double t = 2.0; t <= 20.0; t += 2.0) p.add(t, Watts{100.0 + 10.0 * (t - w / 2)}, Seconds(w));
  // From the first midpoint (1 s) to the last (19 s) the interpolation is exact; outside it is flat.
  const double exact_inside = (100 * 19 + 5 * 19 * 19) - (100 * 1 + 5 * 1 * 1);
  const double flat_start = 110.0 * 1.0;
  const double flat_end = 290.0 * 1.0;
  EXPECT_NEAR(p.finish(20.0)->value, exact_inside + flat_start + flat_end, 1e-9);
}

TEST(PowerIntegrator, AWindowReachingBeforeTheStartIsClipped) {
  PowerIntegrator p;
  p.add(0.5, Watts{100.0}, Seconds(5.0));  // midpoint −2 s
  p.add(5.5, Watts{100.0}, Seconds(5.0));  // midpoint 3 s
  EXPECT_NEAR(p.finish(6.0)->value, 600.0, 1e-9);
}

TEST(PowerIntegrator, AWindowLongerThanTheRunCountsOnlyTheRun) {
  // One 60-s average taken 1 s into a 4-s run, and nothing else: 200 W over the 4 s, not over the 60 s.
  PowerIntegrator p;
  p.add(1.0, Watts{200.0}, Seconds(60.0));
  EXPECT_NEAR(p.finish(4.0)->value, 800.0, 1e-9);
  PowerIntegrator q;
  q.add(0.5, Watts{200.0}, Seconds(60.0));
  q.add(2.0, Watts{200.0}, Seconds(60.0));
  EXPECT_NEAR(q.finish(4.0)->value, 800.0, 1e-9);
}

TEST(PowerIntegrator, FailuresAreBridgedAndRecordedAsDegradedSpans) {
  PowerIntegrator p;
  p.add(0.0, Watts{100.0}, Seconds(0.0));
  p.add(1.0, Watts{100.0}, Seconds(0.0));
  p.add_failure(2.0, "timeout");
  p.add_failure(3.0, "timeout");
  p.add(4.0, Watts{100.0}, Seconds(0.0));
  p.add_failure(5.0, "completion code 0xff");
  const auto energy = p.finish(6.0);
  EXPECT_NEAR(energy->value, 600.0, 1e-9);
  EXPECT_EQ(p.failures(), 3U);
  ASSERT_EQ(p.degraded_spans().size(), 2U);
  EXPECT_DOUBLE_EQ(p.degraded_spans()[0].start_s, 1.0);
  EXPECT_DOUBLE_EQ(p.degraded_spans()[0].end_s, 4.0);
  EXPECT_EQ(p.degraded_spans()[0].error, "timeout");
  EXPECT_DOUBLE_EQ(p.degraded_spans()[1].start_s, 4.0);
  EXPECT_DOUBLE_EQ(p.degraded_spans()[1].end_s, 6.0);
}

TEST(PowerIntegrator, NoGoodReadingMeansNoEnergy) {
  PowerIntegrator p;
  p.add_failure(0.0, "connection refused");
  EXPECT_FALSE(p.finish(3.0));
  EXPECT_FALSE(p.min_power());
  ASSERT_EQ(p.degraded_spans().size(), 1U);
  EXPECT_DOUBLE_EQ(p.degraded_spans()[0].end_s, 3.0);
}

TEST(PowerIntegrator, KeepsMinimumAndMaximum) {
  PowerIntegrator p;
  p.add(0.0, Watts{150.0}, Seconds(0.0));
  p.add(1.0, Watts{90.0}, Seconds(0.0));
  p.add(2.0, Watts{310.0}, Seconds(0.0));
  EXPECT_DOUBLE_EQ(p.min_power()->value, 90.0);
  EXPECT_DOUBLE_EQ(p.max_power()->value, 310.0);
}

}  // namespace
}  // namespace wattprint
