// Carbon intensity resolution, time zone → country, duration parsing, configuration errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config_file.hpp"
#include "core/duration_text.hpp"
#include "core/error.hpp"
#include "footprint/carbon_intensity.hpp"
#include "test_dir.hpp"

namespace wattprint {
namespace {

namespace fs = std::filesystem;

TEST(TimeZone, FromTheTzVariable) {
  EXPECT_EQ(detect_time_zone({std::string("Europe/Paris"), "/nonexistent"}), "Europe/Paris");
  EXPECT_EQ(detect_time_zone({std::string(":Europe/Berlin"), "/nonexistent"}), "Europe/Berlin");
  EXPECT_EQ(detect_time_zone({std::string("/usr/share/zoneinfo/Asia/Tokyo"), "/nonexistent"}), "Asia/Tokyo");
  EXPECT_FALSE(detect_time_zone({std::string("CET-1CEST"), "/nonexistent"}));
}

TEST(TimeZone, FromTheLocaltimeLinkThenTheTimezoneFile) {
  testing::TestDir dir;
  fs::create_symlink("/usr/share/zoneinfo/posix/America/Montreal", dir.path() / "localtime");
  EXPECT_EQ(detect_time_zone({std::nullopt, dir.path()}), "America/Montreal");
  fs::remove(dir.path() / "localtime");
  std::ofstream(dir.path() / "timezone") << "Europe/Madrid\n";
  EXPECT_EQ(detect_time_zone({std::nullopt, dir.path()}), "Europe/Madrid");
}

TEST(CarbonIntensity, FlagsWinOverConfigThenTimeZoneThenWorld) {
  const TimeZoneSource paris{std::string("Europe/Paris"), "/nonexistent"};
  CarbonIntensityRequest request;
  request.intensity_flag = "57.1";
  request.country_flag = "DE";
  request.country_config = "US";
  EXPECT_DOUBLE_EQ(resolve_carbon_intensity(request, paris).g_per_kwh, 57.1);
  request.intensity_flag.reset();
  CarbonIntensity de = resolve_carbon_intensity(request, paris);
  EXPECT_EQ(de.region, "DE");
  EXPECT_EQ(de.selected_by, "--country DE");
  request.country_flag.reset();
  request.config_file = "/etc/wattprint/config.toml";
  EXPECT_EQ(resolve_carbon_intensity(request, paris).region, "US");
  request.country_config.reset();
  const CarbonIntensity fr = resolve_carbon_intensity(request, paris);
  EXPECT_EQ(fr.region, "FR");
  EXPECT_NE(fr.selected_by.find("Europe/Paris"), std::string::npos);
  const CarbonIntensity world = resolve_carbon_intensity(request, {std::string("UTC"), "/nonexistent"});
  EXPECT_EQ(world.region, "WORLD");
  EXPECT_DOUBLE_EQ(world.g_per_kwh, 475.0);
}

TEST(CarbonIntensity, NamedFigureOfTheStudy) {
  const CarbonIntensity ci = carbon_intensity_from_value("ademe-2018-fr", "--carbon-intensity");
  EXPECT_DOUBLE_EQ(ci.g_per_kwh, 57.1);
  EXPECT_EQ(ci.year, 2018);
  EXPECT_NE(ci.source.find("ADEME"), std::string::npos);
}

TEST(CarbonIntensity, RegionsAndBadInput) {
  EXPECT_EQ(carbon_intensity_from_region("us-ca", "--country").region, "US-CA");
  EXPECT_THROW(carbon_intensity_from_region("XX", "--country"), UsageError);
  EXPECT_THROW(carbon_intensity_from_value("-3", "--carbon-intensity"), UsageError);
  EXPECT_THROW(carbon_intensity_from_value("lots", "--carbon-intensity"), UsageError);
  try {
    carbon_intensity_from_region("XX", "--country");
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--country: unknown country or region 'XX'", 0), 0U);
  }
}

TEST(Duration, SecondsAndUnits) {
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("3600"), 3600.0);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("90m"), 5400.0);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("2h"), 7200.0);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("1h30m"), 5400.0);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("1.5h"), 5400.0);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("2d"), 172800.0);
  EXPECT_FALSE(parse_duration_seconds(""));
  EXPECT_FALSE(parse_duration_seconds("2x"));
  EXPECT_FALSE(parse_duration_seconds("-5"));
  EXPECT_FALSE(parse_duration_seconds("1h30"));
}

TEST(Config, LaterFilesOverrideEarlierOnes) {
  testing::TestDir dir;
  std::ofstream(dir.path() / "system.toml") << "pue = 1.5\ncountry = \"DE\"\n";
  std::ofstream(dir.path() / "user.toml")
      << "pue = 1.65\ncarbon_intensity = \"ADEME-2018-FR\"\ninterval = 5\n";
  const ConfigValues values =
      load_config({dir.path() / "system.toml", dir.path() / "user.toml", dir.path() / "missing.toml"});
  EXPECT_DOUBLE_EQ(*values.pue, 1.65);
  EXPECT_EQ(*values.country, "DE");
  EXPECT_EQ(*values.carbon_intensity, "ADEME-2018-FR");
  EXPECT_DOUBLE_EQ(*values.interval_s, 5.0);
  EXPECT_EQ(values.origin.at("pue"), (dir.path() / "user.toml").string());
  EXPECT_EQ(values.files_read.size(), 2U);
}

std::string config_error(const std::string& text, const fs::path& file) {
  std::ofstream(file) << text;
  try {
    load_config({file});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Config, ErrorsNameFileAndLine) {
  testing::TestDir dir;
  const fs::path file = dir.path() / "config.toml";
  EXPECT_EQ(config_error("pue = 1.2\ncountry = \n", file).rfind(file.string() + ":2:", 0), 0U);
  EXPECT_NE(config_error("pue = 1.2\n\ncolour = \"red\"\n", file).find(file.string() + ":3:"),
            std::string::npos);
  EXPECT_NE(config_error("pue = 1.2\n\ncolour = \"red\"\n", file).find("unknown key 'colour'"),
            std::string::npos);
  EXPECT_NE(config_error("pue = 0.8\n", file).find(":1:"), std::string::npos);
  EXPECT_NE(config_error("pue = \"high\"\n", file).find("must be a number"), std::string::npos);
  EXPECT_NE(config_error("interval = 1e-9\n", file).find("between 0.001 and 86400"), std::string::npos);
  EXPECT_THROW(load_config({}, dir.path() / "absent.toml"), ConfigError);
}

}  // namespace
}  // namespace wattprint
