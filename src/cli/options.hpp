// Flags shared by several commands (footprint, hardware model, sensors) and their validation.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "config/config_file.hpp"
#include "footprint/carbon_intensity.hpp"
#include "methods/estimate.hpp"
#include "report/run_report.hpp"
#include "sources/gpu/gpu_sources.hpp"

namespace wattprint::cli {

/// Footprint flags, kept as typed text and validated after parsing so errors name the option.
struct FootprintFlags {
  std::optional<std::string> pue;
  std::optional<std::string> carbon_intensity;
  std::optional<std::string> country;
  std::optional<std::string> config_file;
};

/// Hardware of the estimator.
struct HardwareFlags {
  std::optional<std::string> cpu;
  std::optional<std::string> cpu_tdp;
  std::optional<std::string> cpu_usage;
  std::optional<std::string> memory_gb;
  std::optional<std::string> gpu;
  std::optional<std::string> gpus;
  std::optional<std::string> gpu_tdp;
  std::optional<std::string> gpu_usage;
};

void add_footprint_flags(CLI::App& app, FootprintFlags& flags);
/// The estimator's CPU and memory flags, and with `with_gpus` its GPU flags (`wattprint estimate` only: a run
/// will take its GPUs from the GPUs it measures).
void add_hardware_flags(CLI::App& app, HardwareFlags& flags, bool with_gpus);

/// Binds `--name VALUE` to an optional string (set only when given).
CLI::Option* add_text_option(CLI::App& app, const std::string& name, std::optional<std::string>& target,
                             const std::string& description);

/// Loads the configuration files (system, user, then --config). Throws ConfigError.
ConfigValues load_configuration(const FootprintFlags& flags);

/// PUE and carbon intensity from flags, then configuration, then defaults. Throws UsageError.
Footprint resolve_footprint(const FootprintFlags& flags, const ConfigValues& config);

/// A number given to `option`, within [min, max]. Throws UsageError "OPTION: …" otherwise.
double parse_number(const std::string& option, const std::string& text, double min, double max);

/// Throws UsageError unless a file can be created at `path` (its directory exists and is writable).
void check_writable_path(const std::string& option, const std::string& path);

/// Where the GPU families look: the flags, else WATTPRINT_NVML_LIBRARY / WATTPRINT_ROCM_SMI_LIBRARY.
GpuSourceOptions gpu_source_options(const std::string& sysfs_root,
                                    const std::optional<std::string>& nvml_library,
                                    const std::optional<std::string>& rocm_smi_library);

/// The GPU part of the estimator from the flags (none when neither --gpu nor --gpus is given).
void resolve_gpu_flags(const HardwareFlags& flags, EstimateInputs& inputs);

}  // namespace wattprint::cli
