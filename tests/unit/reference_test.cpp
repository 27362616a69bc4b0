#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "reference/csv.hpp"
#include "reference/reference_data.hpp"

namespace ref = wattprint::reference;

// ------------------------------------------------------------------------------------------------
// CSV reader

TEST(Csv, ParsesQuotedFieldsCommasAndCrlf) {
  const auto rows = ref::csv::parse("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\r\n\n1,,3");
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0], (ref::csv::Row{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (ref::csv::Row{"x, y", "say \"hi\"", ""}));
  EXPECT_EQ(rows[2], (ref::csv::Row{"1", "", "3"}));
}

TEST(Csv, SkipsBomAndKeepsNewlineInsideQuotes) {
  const auto rows = ref::csv::parse("\xEF\xBB\xBF\"Name\",\"x\"\n\"two\nlines\",2\n");
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0][0], "Name");
  EXPECT_EQ(rows[1][0], "two\nlines");
}

// ------------------------------------------------------------------------------------------------
// Name normalisation

TEST(NormaliseModelName, StripsMarksWordsAndFrequency) {
  EXPECT_EQ(ref::normalise_model_name("Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz"),
            "intel xeon silver 4110");
  EXPECT_EQ(ref::normalise_model_name("AMD EPYC 7742 64-Core Processor"), "amd epyc 7742");
  EXPECT_EQ(ref::normalise_model_name("Intel® Xeon® Silver 4110 Processor"), "intel xeon silver 4110");
  EXPECT_EQ(ref::normalise_model_name("AMD Ryzen 5 5600G with Radeon Graphics"), "amd ryzen 5 5600g");
  EXPECT_EQ(ref::normalise_model_name("12th Gen Intel(R) Core(TM) i7-12700H"), "intel core i7-12700h");
  EXPECT_EQ(ref::normalise_model_name("AMD Phenom(tm) II X4 965 Quad-Core  Processor"),
            "amd phenom ii x4 965");
  EXPECT_EQ(ref::normalise_model_name("Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz"), "intel xeon e5-2670");
  EXPECT_EQ(ref::normalise_model_name("  "), "");
}

// ------------------------------------------------------------------------------------------------
// CPUs

TEST(FindCpu, XeonSilver4110FromCpuinfo) {
  const auto cpu = ref::find_cpu("Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz");
  ASSERT_TRUE(cpu.has_value());
  EXPECT_EQ(cpu->model, "Intel Xeon Silver 4110");
  EXPECT_DOUBLE_EQ(cpu->tdp_w, 85.0);
  EXPECT_EQ(cpu->cores, 8);
}

TEST(FindCpu, XeonSilver4110TypedByUser) {
  for (const char* typed : {"Xeon Silver 4110", "xeon silver 4110", "Intel Xeon Silver 4110"}) {
    const auto cpu = ref::find_cpu(typed);
    ASSERT_TRUE(cpu.has_value()) << typed;
    EXPECT_DOUBLE_EQ(cpu->tdp_w, 85.0) << typed;
    EXPECT_EQ(cpu->cores, 8) << typed;
  }
}

TEST(FindCpu, XeonSilver4214) {
  const auto cpu = ref::find_cpu("Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz");
  ASSERT_TRUE(cpu.has_value());
  EXPECT_DOUBLE_EQ(cpu->tdp_w, 85.0);
  EXPECT_EQ(cpu->cores, 12);
  // 4214R is a different part (100 W); the R suffix must not fall back to the 4214.
  const auto r = ref::find_cpu("Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz");
  ASSERT_TRUE(r.has_value());
  EXPECT_DOUBLE_EQ(r->tdp_w, 100.0);
}

TEST(FindCpu, AmdEpyc7742FromCpuinfo) {
  const auto cpu = ref::find_cpu("AMD EPYC 7742 64-Core Processor");
  ASSERT_TRUE(cpu.has_value());
  EXPECT_EQ(cpu->model, "AMD EPYC 7742");
  EXPECT_DOUBLE_EQ(cpu->tdp_w, 225.0);  // "225W" in codecarbon/amd_cpu_server_dataset.csv
  EXPECT_EQ(cpu->cores, 64);
  EXPECT_EQ(cpu->source, "codecarbon-amd");
}

TEST(FindCpu, MoreCpuinfoSpellings) {
  const auto gold = ref::find_cpu("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz");
  ASSERT_TRUE(gold.has_value());
  EXPECT_DOUBLE_EQ(gold->tdp_w, 150.0);
  EXPECT_EQ(gold->cores, 20);

  const auto v3 = ref::find_cpu("Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz");
  ASSERT_TRUE(v3.has_value());
  EXPECT_EQ(v3->model, "Intel Xeon E5-2680 v3");
  EXPECT_EQ(v3->cores, 12);

  const auto v1 = ref::find_cpu("Intel(R) Xeon(R) CPU E5-2680 0 @ 2.70GHz");
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->model, "Intel Xeon E5-2680");
  EXPECT_EQ(v1->cores, 8);

  const auto ryzen = ref::find_cpu("AMD Ryzen 9 5950X 16-Core Processor");
  ASSERT_TRUE(ryzen.has_value());
  EXPECT_EQ(ryzen->cores, 16);
  EXPECT_DOUBLE_EQ(ryzen->tdp_w, 105.0);

  const auto apu = ref::find_cpu("AMD Ryzen 5 5600G with Radeon Graphics");
  ASSERT_TRUE(apu.has_value());
  EXPECT_EQ(apu->model, "AMD Ryzen 5 5600G");
}

TEST(FindCpu, UnknownCpuIsNullopt) {
  EXPECT_FALSE(ref::find_cpu("Totally Unknown CPU 9999").has_value());
  EXPECT_FALSE(ref::find_cpu("ARMv8 Processor rev 1 (v8l)").has_value());
  EXPECT_FALSE(ref::find_cpu("Intel Xeon").has_value());  // no model number: not specific enough
  EXPECT_FALSE(ref::find_cpu("").has_value());
}

TEST(FindCpu, ModelNumberMustMatchExactly) {
  // Synthetic table holding only the T variant: "4110" must not fall back to "4110T".
  const std::vector<ref::CpuSpec> only_t = {{"Intel Xeon Silver 4110T", 70.0, 8, "test"}};
  EXPECT_FALSE(ref::find_cpu_in(only_t, "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz").has_value());
  EXPECT_FALSE(ref::find_cpu_in(only_t, "Xeon Silver 4110").has_value());
  EXPECT_TRUE(ref::find_cpu_in(only_t, "Xeon Silver 4110T").has_value());

  // And the other way round in the real table: 4114 and 4114T both exist.
  const auto plain = ref::find_cpu("Xeon Silver 4114");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->model, "Intel Xeon Silver 4114");
  const auto t = ref::find_cpu("Intel(R) Xeon(R) Silver 4114T CPU @ 2.20GHz");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->model, "Intel Xeon Silver 4114T");
}

TEST(FindCpu, MostSpecificEntryWins) {
  const std::vector<ref::CpuSpec> table = {
      {"Intel Xeon 4110", 1.0, 1, "test"},
      {"Intel Xeon Silver 4110", 85.0, 8, "test"},
  };
  const auto cpu = ref::find_cpu_in(table, "Intel Xeon Silver 4110 Extra Words");
  ASSERT_TRUE(cpu.has_value());
  EXPECT_EQ(cpu->model, "Intel Xeon Silver 4110");
}

TEST(FindCpu, EveryTableRowFindsItself) {
  for (const auto& row : ref::cpu_specs()) {
    const auto found = ref::find_cpu(row.model);
    ASSERT_TRUE(found.has_value()) << row.model;
    EXPECT_EQ(found->model, row.model);
  }
}

// ------------------------------------------------------------------------------------------------
// GPUs

TEST(FindGpu, NvmlNames) {
  struct Case {
    const char* name;
    double tdp;
  };
  const Case cases[] = {
      {"Tesla T4", 70.0},
      {"NVIDIA A100-SXM4-40GB", 400.0},
      {"NVIDIA A100-SXM4-80GB", 400.0},
      {"NVIDIA A100-PCIE-40GB", 250.0},
      {"NVIDIA A100 80GB PCIe", 300.0},
      {"NVIDIA H100 80GB HBM3", 700.0},
      {"NVIDIA H100 PCIe", 350.0},
      {"NVIDIA H100 NVL", 400.0},
      {"NVIDIA H200", 700.0},
      {"NVIDIA H200 NVL", 600.0},
      {"Tesla V100-SXM2-16GB", 300.0},
      {"Tesla V100-SXM2-32GB", 300.0},
      {"Tesla V100-PCIE-16GB", 250.0},
      {"Tesla V100-PCIE-32GB", 250.0},
      {"Quadro RTX 6000", 260.0},
      {"Quadro RTX 8000", 260.0},
      {"NVIDIA L4", 72.0},
      {"NVIDIA L40S", 350.0},
      {"NVIDIA L40", 300.0},
      {"NVIDIA GeForce RTX 2080 Ti", 250.0},
      {"NVIDIA GeForce RTX 2080", 215.0},
      {"AMD Instinct MI300X", 750.0},
  };
  for (const Case& c : cases) {
    const auto gpu = ref::find_gpu(c.name);
    ASSERT_TRUE(gpu.has_value()) << c.name;
    EXPECT_DOUBLE_EQ(gpu->tdp_w, c.tdp) << c.name << " matched " << gpu->model;
  }
}

TEST(FindGpu, UnknownGpuIsNullopt) {
  EXPECT_FALSE(ref::find_gpu("NVIDIA RTX 6000 Ada Generation").has_value());
  EXPECT_FALSE(ref::find_gpu("NVIDIA GH200 480GB").has_value());
  EXPECT_FALSE(ref::find_gpu("NVIDIA").has_value());
  EXPECT_FALSE(ref::find_gpu("").has_value());
}

TEST(FindGpu, EveryTableRowFindsItself) {
  for (const auto& row : ref::gpu_specs()) {
    const auto found = ref::find_gpu(row.model);
    ASSERT_TRUE(found.has_value()) << row.model;
    EXPECT_EQ(found->model, row.model);
  }
}

// ------------------------------------------------------------------------------------------------
// Carbon intensity

TEST(GridIntensity, FranceFromOwid) {
  const auto fr = ref::find_grid_intensity("FR");
  ASSERT_TRUE(fr.has_value());
  EXPECT_DOUBLE_EQ(fr->g_per_kwh, 56.03859);  // carbontracker/carbon-intensities.csv
  EXPECT_EQ(fr->year, 2023);
  EXPECT_EQ(fr->name, "France");
  EXPECT_EQ(fr->source, "owid-ember-via-carbontracker");
  const auto lower = ref::find_grid_intensity("fr");
  ASSERT_TRUE(lower.has_value());
  EXPECT_EQ(lower->code, "FR");
}

TEST(GridIntensity, CaliforniaFromGreenAlgorithms) {
  const auto ca = ref::find_grid_intensity("us-ca");
  ASSERT_TRUE(ca.has_value());
  EXPECT_EQ(ca->code, "US-CA");
  EXPECT_DOUBLE_EQ(ca->g_per_kwh, 216.43);  // greenalgorithms/CI_aggregated.csv
  EXPECT_EQ(ca->year, 2020);
  EXPECT_EQ(ca->source, "green-algorithms-v3.0");

  const auto qc = ref::find_grid_intensity("CA-QC");
  ASSERT_TRUE(qc.has_value());
  EXPECT_DOUBLE_EQ(qc->g_per_kwh, 1.5);
  EXPECT_EQ(qc->year, 2019);
  const auto nsw = ref::find_grid_intensity("AU-NSW");
  ASSERT_TRUE(nsw.has_value());
  EXPECT_DOUBLE_EQ(nsw->g_per_kwh, 870.0);
}

TEST(GridIntensity, WorldAverage) {
  const auto world = ref::world_average();
  EXPECT_EQ(world.code, "WORLD");
  EXPECT_DOUBLE_EQ(world.g_per_kwh, 475.0);
  EXPECT_EQ(world.year, 2019);
  const auto looked_up = ref::find_grid_intensity("world");
  ASSERT_TRUE(looked_up.has_value());
  EXPECT_DOUBLE_EQ(looked_up->g_per_kwh, 475.0);
}

TEST(GridIntensity, UnknownCodeIsNullopt) {
  EXPECT_FALSE(ref::find_grid_intensity("XX").has_value());
  EXPECT_FALSE(ref::find_grid_intensity("").has_value());
}

TEST(NamedIntensity, AdemeAndRte) {
  const auto ademe = ref::find_named_intensity("ADEME-2018-FR");
  ASSERT_TRUE(ademe.has_value());
  EXPECT_DOUBLE_EQ(ademe->intensity.g_per_kwh, 57.1);
  EXPECT_EQ(ademe->intensity.code, "FR");
  EXPECT_EQ(ademe->intensity.year, 2018);
  EXPECT_EQ(ademe->intensity.name, "France");

  const auto lower = ref::find_named_intensity("ademe-2018-fr");
  ASSERT_TRUE(lower.has_value());
  EXPECT_EQ(lower->name, "ADEME-2018-FR");

  const auto rte23 = ref::find_named_intensity("RTE-2023-FR");
  ASSERT_TRUE(rte23.has_value());
  EXPECT_DOUBLE_EQ(rte23->intensity.g_per_kwh, 32.0);
  const auto rte24 = ref::find_named_intensity("rte-2024-fr");
  ASSERT_TRUE(rte24.has_value());
  EXPECT_DOUBLE_EQ(rte24->intensity.g_per_kwh, 21.7);
  const auto iea = ref::find_named_intensity("IEA-2019-WORLD");
  ASSERT_TRUE(iea.has_value());
  EXPECT_DOUBLE_EQ(iea->intensity.g_per_kwh, 475.0);

  EXPECT_FALSE(ref::find_named_intensity("NOPE-2020-XX").has_value());
  EXPECT_GE(ref::named_intensities().size(), 4U);
}

// ------------------------------------------------------------------------------------------------
// Time zones

TEST(Timezone, CanonicalAndBackwardNames) {
  EXPECT_EQ(ref::country_for_timezone("Europe/Paris"), "FR");
  EXPECT_EQ(ref::country_for_timezone("Asia/Calcutta"), "IN");
  EXPECT_EQ(ref::country_for_timezone("Asia/Kolkata"), "IN");
  EXPECT_EQ(ref::country_for_timezone("Europe/Kiev"), "UA");
  EXPECT_EQ(ref::country_for_timezone("US/Pacific"), "US");
  EXPECT_EQ(ref::country_for_timezone("Europe/Belfast"), "GB");
  EXPECT_EQ(ref::country_for_timezone("Canada/Eastern"), "CA");
  EXPECT_EQ(ref::country_for_timezone("America/Los_Angeles"), "US");
  EXPECT_EQ(ref::country_for_timezone(":Europe/Berlin"), "DE");
  EXPECT_EQ(ref::country_for_timezone("/usr/share/zoneinfo/Europe/Paris"), "FR");
}

TEST(Timezone, UtcMapsToNothing) {
  EXPECT_FALSE(ref::country_for_timezone("Etc/UTC").has_value());
  EXPECT_FALSE(ref::country_for_timezone("UTC").has_value());
  EXPECT_FALSE(ref::country_for_timezone("GMT").has_value());
  EXPECT_FALSE(ref::country_for_timezone("/usr/share/zoneinfo/Etc/UTC").has_value());
  EXPECT_FALSE(ref::country_for_timezone("").has_value());
}

// ------------------------------------------------------------------------------------------------
// Table validation

namespace {
bool is_upper_alpha2(const std::string& s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}
}  // namespace

TEST(Tables, CpuRowsAreValidAndUnique) {
  const auto& cpus = ref::cpu_specs();
  EXPECT_GT(cpus.size(), 2000U);
  std::set<std::string> normalised;
  for (const auto& row : cpus) {
    EXPECT_FALSE(row.model.empty());
    EXPECT_GT(row.tdp_w, 0.0) << row.model;
    EXPECT_LT(row.tdp_w, 1000.0) << row.model;
    EXPECT_GT(row.cores, 0) << row.model;
    EXPECT_FALSE(row.source.empty()) << row.model;
    EXPECT_EQ(row.model.find("\xC2\xAE"), std::string::npos) << row.model;      // ®
    EXPECT_EQ(row.model.find("\xE2\x84\xA2"), std::string::npos) << row.model;  // ™
    // The generator removes duplicates under its (Python) normalisation; this checks the C++ twin
    // agrees, i.e. no two rows collapse to the same key (the generator keeps the higher-priority one).
    EXPECT_TRUE(normalised.insert(ref::normalise_model_name(row.model)).second) << "duplicate " << row.model;
  }
}

TEST(Tables, GpuRowsAreValidAndUnique) {
  const auto& gpus = ref::gpu_specs();
  EXPECT_GT(gpus.size(), 40U);
  std::set<std::string> models;
  for (const auto& row : gpus) {
    EXPECT_GT(row.tdp_w, 0.0) << row.model;
    EXPECT_LE(row.tdp_w, 1000.0) << row.model;
    EXPECT_FALSE(row.source.empty()) << row.model;
    EXPECT_TRUE(models.insert(row.model).second) << "duplicate " << row.model;
  }
}

TEST(Tables, GridRowsAreValidAndUnique) {
  const auto& grid = ref::grid_intensities();
  EXPECT_GT(grid.size(), 200U);
  std::set<std::string> codes;
  for (const auto& row : grid) {
    EXPECT_GT(row.g_per_kwh, 0.0) << row.code;
    EXPECT_LT(row.g_per_kwh, 2000.0) << row.code;
    EXPECT_GE(row.year, 1990) << row.code;
    EXPECT_LE(row.year, 2030) << row.code;
    EXPECT_FALSE(row.name.empty()) << row.code;
    const bool country = is_upper_alpha2(row.code);
    const bool region = row.code.size() > 3 && is_upper_alpha2(row.code.substr(0, 2)) && row.code[2] == '-';
    EXPECT_TRUE(country || region || row.code == "WORLD") << row.code;
    EXPECT_TRUE(codes.insert(row.code).second) << "duplicate " << row.code;
  }
  for (const auto& named : ref::named_intensities()) {
    EXPECT_GT(named.intensity.g_per_kwh, 0.0) << named.name;
    EXPECT_GE(named.intensity.year, 1990) << named.name;
    EXPECT_LE(named.intensity.year, 2030) << named.name;
    EXPECT_TRUE(ref::find_grid_intensity(named.intensity.code).has_value()) << named.name;
    EXPECT_FALSE(named.description.empty()) << named.name;
  }
}

TEST(Tables, TimezoneRowsAreValidAndUnique) {
  const auto& zones = ref::timezone_countries();
  EXPECT_GT(zones.size(), 400U);
  std::set<std::string> names;
  for (const auto& z : zones) {
    EXPECT_TRUE(is_upper_alpha2(z.country)) << z.timezone;
    EXPECT_TRUE(names.insert(z.timezone).second) << "duplicate " << z.timezone;
  }
}

TEST(Tables, ConstantsMatchSources) {
  EXPECT_DOUBLE_EQ(ref::kFallbackCpuWattsPerCore, 12.0);
  EXPECT_DOUBLE_EQ(ref::kFallbackGpuWatts, 200.0);
  EXPECT_DOUBLE_EQ(ref::kMemoryWattsPerGigabyte, 0.3725);
}

TEST(Tables, ConcurrentFirstUseIsSafe) {
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (std::size_t i = 0; i < ok.size(); ++i) {
    threads.emplace_back([&ok, i] { ok[i] = ref::find_cpu("Xeon Silver 4110").has_value() ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  for (int v : ok) EXPECT_EQ(v, 1);
}
