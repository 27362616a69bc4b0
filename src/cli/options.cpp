// Shared flag definitions and validation; every error is one line that names the option.
#include "cli/options.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.hpp"
#include "platform/text_file.hpp"
#include "reference/reference_data.hpp"

namespace wattprint::cli {

CLI::Option* add_text_option(CLI::App& app, const std::string& name, std::optional<std::string>& target,
                             const std::string& description) {
  return app.add_option_function<std::string>(
      name, [&target](const std::string& value) { target = value; }, description);
}

void add_footprint_flags(CLI::App& app, FootprintFlags& flags) {
  add_text_option(app, "--pue", flags.pue,
                  "Power usage effectiveness of the data centre (≥ 1). Default 1.0: IT equipment only")
      ->type_name("X")
      ->group("Footprint");
  add_text_option(app, "--carbon-intensity", flags.carbon_intensity,
                  "Grid carbon intensity in gCO2e/kWh, or a named figure such as ADEME-2018-FR (France, "
                  "57.1), RTE-2024-FR, IEA-2019-WORLD")
      ->type_name("G|NAME")
      ->group("Footprint");
  add_text_option(app, "--country", flags.country,
                  "Country (ISO 3166-1 alpha-2, e.g. FR) or region (e.g. US-CA) whose grid intensity to use. "
                  "Default: config, else a guess from the time zone, else the world average")
      ->type_name("CODE")
      ->group("Footprint");
  add_text_option(app, "--config", flags.config_file,
                  "Read this TOML file after /etc/wattprint/config.toml and ~/.config/wattprint/config.toml")
      ->type_name("FILE")
      ->group("Footprint");
}

void add_hardware_flags(CLI::App& app, HardwareFlags& flags, bool with_gpus) {
  const std::string group = "Estimator hardware";
  add_text_option(app, "--cpu", flags.cpu, "CPU model to look up in the TDP table (default: /proc/cpuinfo)")
      ->type_name("MODEL")
      ->group(group);
  add_text_option(app, "--cpu-tdp", flags.cpu_tdp, "CPU package TDP in watts, overriding the table")
      ->type_name("W")
      ->group(group);
  add_text_option(app, "--cpu-usage", flags.cpu_usage, "Usage factor of the cores used, 0 to 1 (default 1)")
      ->type_name("U")
      ->group(group);
  add_text_option(app, "--memory-gb", flags.memory_gb,
                  "Memory in GB (2^30 bytes) for the estimate, e.g. what the job booked")
      ->type_name("GB")
      ->group(group);
  if (!with_gpus) return;
  add_text_option(app, "--gpu", flags.gpu, "GPU model to look up in the TDP table (e.g. \"Tesla T4\")")
      ->type_name("MODEL")
      ->group(group);
  add_text_option(app, "--gpus", flags.gpus, "Number of GPUs used (default 1 when --gpu is given)")
      ->type_name("N")
      ->group(group);
  add_text_option(app, "--gpu-tdp", flags.gpu_tdp, "GPU TDP in watts, overriding the table")
      ->type_name("W")
      ->group(group);
  add_text_option(app, "--gpu-usage", flags.gpu_usage, "GPU usage factor, 0 to 1 (default 1)")
      ->type_name("U")
      ->group(group);
}

double parse_number(const std::string& option, const std::string& text, double min, double max) {
  const auto value = parse_double(text);
  if (!value) throw UsageError(fmt::format("{}: '{}' is not a number", option, text));
  if (*value < min || *value > max) {
    if (max == std::numeric_limits<double>::max()) {
      throw UsageError(fmt::format("{}: {} is out of range (must be {} or more)", option, text, min));
    }
    throw UsageError(
        fmt::format("{}: {} is out of range (must be between {} and {})", option, text, min, max));
  }
  return *value;
}

ConfigValues load_configuration(const FootprintFlags& flags) {
  std::optional<std::filesystem::path> extra;
  if (flags.config_file) extra = *flags.config_file;
  return load_config(default_config_files(), extra);
}

Footprint resolve_footprint(const FootprintFlags& flags, const ConfigValues& config) {
  Footprint footprint;
  constexpr double kMax = std::numeric_limits<double>::max();
  if (flags.pue) {
    const auto value = parse_double(*flags.pue);
    if (!value) throw UsageError(fmt::format("--pue: '{}' is not a number", *flags.pue));
    if (*value < 1.0) {
      throw UsageError(
          fmt::format("--pue: {} is below 1, which no data centre can reach (PUE = facility energy "
                      "÷ IT energy ≥ 1)",
                      *flags.pue));
    }
    footprint.pue = parse_number("--pue", *flags.pue, 1.0, kMax);
    footprint.pue_source = "--pue";
  } else if (config.pue) {
    footprint.pue = *config.pue;
    footprint.pue_source = "config " + config.origin.at("pue");
  } else {
    footprint.pue = 1.0;
    footprint.pue_source = "default: IT equipment only; give --pue for the data centre's overhead";
  }
  CarbonIntensityRequest request;
  request.intensity_flag = flags.carbon_intensity;
  request.country_flag = flags.country;
  // The later configuration file wins; within one file carbon_intensity wins over country.
  request.intensity_config = config.carbon_intensity;
  request.country_config = config.country;
  if (config.carbon_intensity && config.country) {
    const auto position = [&config](const std::string& key) {
      const auto& files = config.files_read;
      return std::find(files.begin(), files.end(), config.origin.at(key)) - files.begin();
    };
    if (position("country") > position("carbon_intensity")) request.intensity_config.reset();
  }
  if (request.intensity_config) {
    request.config_file = config.origin.at("carbon_intensity");
  } else if (request.country_config) {
    request.config_file = config.origin.at("country");
  }
  TimeZoneSource tz;
  if (const char* value = std::getenv("TZ")) tz.tz_variable = std::string(value);
  footprint.carbon_intensity = resolve_carbon_intensity(request, tz);
  return footprint;
}

GpuSourceOptions gpu_source_options(const std::string& sysfs_root,
                                    const std::optional<std::string>& nvml_library,
                                    const std::optional<std::string>& rocm_smi_library) {
  const auto flag_or_environment = [](const std::optional<std::string>& flag, const char* variable) {
    if (flag) return *flag;
    const char* value = std::getenv(variable);
    return value != nullptr ? std::string(value) : std::string();
  };
  GpuSourceOptions options;
  options.sysfs_root = sysfs_root;
  options.nvml_library = flag_or_environment(nvml_library, "WATTPRINT_NVML_LIBRARY");
  options.rocm_smi_library = flag_or_environment(rocm_smi_library, "WATTPRINT_ROCM_SMI_LIBRARY");
  return options;
}

void check_writable_path(const std::string& option, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target = fs::absolute(fs::path(path));
  const fs::path parent = target.parent_path();
  std::error_code ec;
  if (fs::is_directory(target, ec)) throw UsageError(fmt::format("{}: {} is a directory", option, path));
  if (!fs::is_directory(parent, ec)) {
    throw UsageError(fmt::format("{}: directory {} does not exist", option, parent.string()));
  }
  if (::access(parent.c_str(), W_OK) != 0) {
    throw UsageError(
        fmt::format("{}: cannot write in {}: {}", option, parent.string(), std::strerror(errno)));
  }
  if (fs::exists(target, ec) && ::access(target.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("{}: cannot overwrite {}: {}", option, path, std::strerror(errno)));
  }
}

void resolve_gpu_flags(const HardwareFlags& flags, EstimateInputs& inputs) {
  constexpr double kMax = std::numeric_limits<double>::max();
  if (flags.gpus) {
    const double n = parse_number("--gpus", *flags.gpus, 0, 1024);
    if (n != std::floor(n)) throw UsageError(fmt::format("--gpus: '{}' is not a whole number", *flags.gpus));
    inputs.gpus = static_cast<int>(n);
  } else {
    inputs.gpus = flags.gpu ? 1 : 0;
  }
  if (inputs.gpus == 0) return;
  std::optional<double> tdp;
  if (flags.gpu_tdp) tdp = parse_number("--gpu-tdp", *flags.gpu_tdp, 1e-9, kMax);
  inputs.gpu = resolve_gpu_power(flags.gpu.value_or(""), tdp);
  if (inputs.gpu.fallback && flags.gpu) {
    // A GPU typed by the user: a short name ("A100") fits several models; say which rather than guess.
    const std::string wanted = reference::normalise_model_name(*flags.gpu);
    std::string candidates;
    std::size_t count = 0;
    for (const auto& spec : reference::gpu_specs()) {
      if (reference::normalise_model_name(spec.model).find(wanted) == std::string::npos) continue;
      if (++count <= 8)
        candidates += fmt::format("{}\"{}\" ({} W)", candidates.empty() ? "" : ", ", spec.model, spec.tdp_w);
    }
    if (count > 0) {
      throw UsageError(fmt::format("--gpu: '{}' fits several models: {}{}; give one of them or --gpu-tdp W",
                                   *flags.gpu, candidates, count > 8 ? ", …" : ""));
    }
    throw UsageError(fmt::format(
        "--gpu: '{}' is not in the embedded GPU table; give its TDP with --gpu-tdp W", *flags.gpu));
  }
  if (flags.gpu_usage) inputs.gpu_usage = parse_number("--gpu-usage", *flags.gpu_usage, 0.0, 1.0);
}

}  // namespace wattprint::cli
