// `wattprint run`: measure a command like `time` does, with every method side by side.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>

#include "attribution/gpu_selection.hpp"
#include "attribution/process_tree.hpp"
#include "cli/commands.hpp"
#include "cli/journal_recovery.hpp"
#include "cli/measurement_sources.hpp"
#include "cli/options.hpp"
#include "cli/run_history.hpp"
#include "cli/run_report_builder.hpp"
#include "cluster/batch_job.hpp"
#include "cluster/job_attribution.hpp"
#include "cluster/node_group.hpp"
#include "core/error.hpp"
#include "idle/idle_baseline.hpp"
#include "journal/run_journal.hpp"
#include "methods/all_methods.hpp"
#include "methods/gpu.hpp"
#include "phases/control_socket.hpp"
#include "phases/output_relay.hpp"
#include "phases/phase_results.hpp"
#include "platform/child_process.hpp"
#include "platform/text_file.hpp"
#include "report/json_report.hpp"
#include "report/report_formats.hpp"
#include "report/summary_text.hpp"
#include "samples/csv_sample_writer.hpp"
#include "samples/timeline.hpp"
#include "store/run_store.hpp"

namespace wattprint::cli {

namespace {

struct RunFlags {
  FootprintFlags footprint;
  HardwareFlags hardware;
  SourceFlags sources;
  std::optional<std::string> interval;
  std::optional<std::string> json_path;
  std::optional<std::string> gpus;
  std::optional<std::string> idle_watts;
  std::optional<std::string> idle_before;
  std::optional<std::string> state_dir;
  std::vector<std::string> mark_regex;
  std::vector<std::string> mark_end_regex;
  std::optional<std::string> csv_path;
  std::optional<std::string> html_path;
  std::optional<std::string> store;
  bool no_store = false;
  std::vector<std::string> tags;
  std::optional<std::string> one_per_node;  ///< auto (default) or off
  bool no_journal = false;
  std::optional<std::string> journal_dir;
  std::vector<std::string> command;
};

/// The idle baseline of this run: --idle-watts, else --idle-before (measured now), else idle_watts in the
/// configuration, else the one stored for this host. `why_none` says what to do when there is none.
std::optional<IdleBaseline> resolve_idle_baseline(const RunFlags& flags, const ConfigValues& config,
                                                  const SourceSettings& settings, double interval_s,
                                                  RunReport& report, std::string& why_none) {
  if (flags.idle_watts) {
    IdleBaseline b;
    b.host = report.host.hostname;
    b.server_w = parse_number("--idle-watts", *flags.idle_watts, 0.0, 1e6);
    b.how = fmt::format("--idle-watts {}", *flags.idle_watts);
    return b;
  }
  if (flags.idle_before) {
    const double seconds = parse_number("--idle-before", *flags.idle_before, 1.0, 86400.0);
    std::fprintf(stderr, "wattprint: measuring idle power for %s before starting the command\n",
                 format_duration(seconds).c_str());
    IdleMeasurement idle = measure_idle(settings, Seconds(seconds), Seconds(std::min(interval_s, 1.0)));
    IdleBaseline b = idle_baseline_from(
        idle.measurement, report.host.hostname, iso8601_utc_now(),
        fmt::format("--idle-before {} (measured just before the command)", *flags.idle_before));
    if (!idle.warning.empty()) warn(report, idle.warning);
    if (!b.server_w) why_none = "--idle-before: " + idle.server_reason;
    return b;
  }
  if (config.idle_watts) {
    IdleBaseline b;
    b.host = report.host.hostname;
    b.server_w = *config.idle_watts;
    b.how = fmt::format("idle_watts in {}",
                        config.origin.count("idle_watts") ? config.origin.at("idle_watts") : "the config");
    return b;
  }
  std::optional<std::filesystem::path> state_dir;
  if (flags.state_dir)
    state_dir = *flags.state_dir;
  else if (config.state_dir)
    state_dir = *config.state_dir;
  try {
    if (auto stored = load_idle_baseline(idle_search_dirs(state_dir), report.host.hostname)) return stored;
  } catch (const std::exception& e) {
    warn(report, e.what());
  }
  why_none = fmt::format(
      "no idle baseline for {}: run `wattprint idle --duration 60` once while the machine is idle, or pass "
      "--idle-watts W or --idle-before SECONDS",
      report.host.hostname);
  return std::nullopt;
}

double seconds_of(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
}

/// In a batch job with --one-per-node=auto: this node's group of `wattprint run` of the same job step.
/// nullopt outside a job, with off, or when the group cannot be joined (said, and this run measures alone).
std::optional<NodeGroup> join_node_group(const RunFlags& flags, const std::optional<BatchJob>& job,
                                         const std::string& hostname) {
  if (!job || flags.one_per_node.value_or("auto") == "off") return std::nullopt;
  try {
    return NodeGroup::join(node_group_directory(process_environment(), ::getuid()),
                           node_group_key(*job, hostname));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wattprint: warning: one measurer per node: %s; this rank measures on its own\n",
                 e.what());
    return std::nullopt;
  }
}

/// A rank whose node already has a measurer: runs the command unmeasured inside the measurer's run and
/// exits with the command's status.
int run_as_member(const RunFlags& flags, const NodeGroup& group, const std::string& hostname) {
  const pid_t self = ::getpid();
  if (group.late()) {
    std::fprintf(stderr,
                 "wattprint: pid %d measured node %s for this job step and is finishing: this rank (pid %d) "
                 "runs unmeasured and is not in the node's report (start the ranks together)\n",
                 static_cast<int>(group.measurer_pid()), hostname.c_str(), static_cast<int>(self));
  } else {
    std::fprintf(stderr,
                 "wattprint: pid %d measures node %s for this job step, this rank (pid %d) included\n",
                 static_cast<int>(group.measurer_pid()), hostname.c_str(), static_cast<int>(self));
    if (!tell_measurer(group.measurer_socket(), fmt::format("join {}", self))) {
      std::fprintf(stderr,
                   "wattprint: warning: cannot reach the measurer's control socket %s: this rank's CPU time "
                   "is not in the node's report\n",
                   group.measurer_socket().c_str());
    }
  }
  become_child_subreaper();
  const ProcFs procfs("/proc");
  ProcessTreeMonitor tree(procfs, self);
  SpawnOptions spawn;
  if (!group.late() && !group.measurer_socket().empty())
    spawn.environment.emplace_back(kControlSocketVariable, group.measurer_socket().string());
  CommandExit exit;
  {
    SignalForwarding forwarding;
    const SpawnResult spawned = spawn_command(flags.command, spawn);
    if (spawned.pid < 0) {
      std::fprintf(stderr, "wattprint: cannot start a process: %s\n", std::strerror(spawned.exec_error));
      exit = {126, std::nullopt};
    } else {
      forwarding.set_target(spawned.pid);
      exit = wait_for_command(spawned.pid, tree);
      if (spawned.exec_error != 0) {
        std::fprintf(stderr, "wattprint: cannot run '%s': %s\n", flags.command.front().c_str(),
                     std::strerror(spawned.exec_error));
        exit = {spawned.exec_error == ENOENT ? 127 : 126, std::nullopt};
      }
    }
  }
  if (!group.late()) {
    // Its own and its reaped children's CPU time, for the measurer's last sample after this exits.
    struct rusage self_usage {};
    struct rusage children {};
    ::getrusage(RUSAGE_SELF, &self_usage);
    ::getrusage(RUSAGE_CHILDREN, &children);
    const double cpu_s = seconds_of(self_usage.ru_utime) + seconds_of(self_usage.ru_stime) +
                         seconds_of(children.ru_utime) + seconds_of(children.ru_stime);
    tell_measurer(group.measurer_socket(), fmt::format("leave {} {:.6f}", self, cpu_s));
  }
  return exit.exit_code;
}

/// The measurer's side of "join PID" / "leave PID CPU_S" (from the control socket's thread).
void take_member_line(std::string_view line, ProcessTreeMonitor& tree) {
  std::istringstream in{std::string(line)};
  std::string verb;
  long pid = 0;
  in >> verb >> pid;
  if (!in || pid <= 0) throw std::invalid_argument("malformed member line");
  if (verb == "join") {
    tree.add_root(static_cast<pid_t>(pid));
  } else {
    double cpu_s = 0.0;
    in >> cpu_s;
    if (!in) throw std::invalid_argument("malformed member line");
    tree.root_leaving(static_cast<pid_t>(pid), cpu_s);
  }
}

MonitorCost monitor_cost() {
  struct rusage self {};
  ::getrusage(RUSAGE_SELF, &self);
  return {seconds_of(self.ru_utime) + seconds_of(self.ru_stime),
          static_cast<std::uint64_t>(self.ru_maxrss > 0 ? self.ru_maxrss : 0) * 1024U};
}

/// Expands the placeholders (%h, %j, %t...) of the output file names, so that every node and task of a
/// batch job writes its own files.
void expand_output_names(RunFlags& flags, const std::optional<BatchJob>& job, const std::string& hostname) {
  for (std::optional<std::string>* path : {&flags.json_path, &flags.html_path, &flags.csv_path}) {
    if (*path) *path = expand_output_pattern(**path, job, hostname);
  }
}

/// One line when earlier runs of this user were interrupted and can be recovered.
void mention_interrupted_runs(const std::filesystem::path& root, const std::string& host,
                              const EnvironmentLookup& environment) {
  std::size_t interrupted = 0;
  for (const JournalEntry& entry : list_journals(root, host, current_boot_id(environment))) {
    if (entry.state == JournalEntry::State::Interrupted || entry.state == JournalEntry::State::Rebooted)
      ++interrupted;
  }
  if (interrupted > 0) {
    std::fprintf(stderr, "wattprint: %zu interrupted run(s) can be recovered: wattprint report --recover\n",
                 interrupted);
  }
}

/// Starts the run's journal: the sampler's rows go to it, and a snapshot of the report every flush period.
/// Null (with a warning) when it cannot be created: the run goes on.
std::unique_ptr<RunJournal> start_journal(const std::filesystem::path& root, RunReport& report,
                                          JournalFileSystem& files, RunSampler& sampler,
                                          const TimelineDownsampler& timeline, const RunReportInputs& inputs,
                                          const EnvironmentLookup& environment) {
  std::unique_ptr<RunJournal> journal;
  try {
    const JournalOwner owner{report.run_id,        ::getpid(),
                             report.host.hostname, current_boot_id(environment),
                             report.started_at,    report.command};
    journal = std::make_unique<RunJournal>(root, owner, files);
  } catch (const std::exception& e) {
    warn(report, fmt::format("{} (the run goes on, but could not be recovered after a crash; "
                             "--journal-dir DIR puts the journal elsewhere)",
                             e.what()));
    return nullptr;
  }
  sampler.attach_sink(*journal);
  auto base = std::make_shared<const RunReport>(report);
  RunJournal* target = journal.get();
  // On the sampler's thread: only copies; the report is built and written on the journal's thread.
  sampler.attach_snapshots(
      [target, base, &timeline, &inputs](RunMeasurement&& measurement) {
        auto m = std::make_shared<const RunMeasurement>(std::move(measurement));
        auto points = std::make_shared<const Timeline>(timeline.timeline());
        target->submit(m->duration_s, [base, m, points, &inputs] {
          RunReport snapshot = *base;
          complete_run_report(snapshot, *m, inputs, false);
          snapshot.timeline = *points;
          return to_json(snapshot).dump(2) + "\n";
        });
      },
      Seconds(journal_flush_period_s(environment)));
  return journal;
}

int execute(RunFlags& flags) {
  constexpr double kMax = std::numeric_limits<double>::max();
  // Everything the user typed is checked before the command starts.
  if (flags.command.empty())
    throw UsageError("run: no command given (usage: wattprint run [OPTIONS] -- COMMAND)");
  const ProcFs procfs("/proc");
  const HostInfo host = detect_host(procfs);
  const std::optional<BatchJob> job = detect_batch_job(process_environment(), host.hostname);
  expand_output_names(flags, job, host.hostname);
  if (const std::string mode = flags.one_per_node.value_or("auto"); mode != "auto" && mode != "off") {
    throw UsageError(fmt::format("--one-per-node: '{}' is not auto or off", mode));
  }
  const ConfigValues config = load_configuration(flags.footprint);
  Footprint footprint = resolve_footprint(flags.footprint, config);
  double interval_s = config.interval_s.value_or(1.0);
  if (flags.interval) interval_s = parse_number("--interval", *flags.interval, 0.001, 86400.0);
  const SourceSettings settings = resolve_source_settings(flags.sources, config);
  if (flags.idle_watts && flags.idle_before) {
    throw UsageError("--idle-watts and --idle-before both set the idle baseline: give one");
  }
  if (flags.idle_watts) parse_number("--idle-watts", *flags.idle_watts, 0.0, 1e6);
  if (flags.idle_before) parse_number("--idle-before", *flags.idle_before, 1.0, 86400.0);
  std::optional<double> cpu_tdp = config.cpu_tdp_w;
  if (flags.hardware.cpu_tdp) cpu_tdp = parse_number("--cpu-tdp", *flags.hardware.cpu_tdp, 1e-9, kMax);
  std::optional<double> memory_gb = config.memory_gb;
  if (flags.hardware.memory_gb) memory_gb = parse_number("--memory-gb", *flags.hardware.memory_gb, 0.0, kMax);
  EstimateInputs estimate;
  if (flags.hardware.cpu_usage)
    estimate.cpu_usage = parse_number("--cpu-usage", *flags.hardware.cpu_usage, 0, 1);
  if (flags.json_path) check_writable_path("--json", *flags.json_path);
  if (flags.html_path) check_writable_path("--html", *flags.html_path);
  std::vector<MarkPattern> patterns;
  for (const std::string& value : flags.mark_regex)
    patterns.push_back(parse_mark_pattern("--mark-regex", value, PhaseMark::Kind::Begin));
  for (const std::string& value : flags.mark_end_regex)
    patterns.push_back(parse_mark_pattern("--mark-end-regex", value, PhaseMark::Kind::End));
  std::map<std::string, std::string> tags = config.tags;
  std::set<std::string> tagged;
  for (const std::string& text : flags.tags) {
    auto [key, value] = parse_tag("--tag", text);
    if (!tagged.insert(key).second) throw UsageError(fmt::format("--tag: '{}' is given twice", key));
    tags[key] = value;
  }
  const std::optional<std::filesystem::path> store = resolve_store_path(flags.store, flags.no_store, config);
  const std::optional<std::filesystem::path> journal_dir =
      resolve_journal_root(flags.journal_dir, flags.no_journal, config, process_environment());
  std::unique_ptr<CsvSampleWriter> csv;
  if (flags.csv_path) {
    try {
      csv = std::make_unique<CsvSampleWriter>(*flags.csv_path);
    } catch (const std::exception& e) {
      throw UsageError(fmt::format("--csv: {}", e.what()));
    }
  }

  std::optional<NodeGroup> group = join_node_group(flags, job, host.hostname);
  if (group && group->role() == NodeGroup::Role::Member) return run_as_member(flags, *group, host.hostname);

  if (journal_dir) mention_interrupted_runs(*journal_dir, host.hostname, process_environment());
  RunReport report;
  report.kind = "run";
  report.run_id = new_run_id();
  report.tags = tags;
  report.tool_version = version();
  report.command = flags.command;
  report.host = host;
  report.job = job;
  const EnvironmentLookup environment = process_environment();
  report.footprint = footprint;
  report.interval_s = interval_s;
  report.config_files = config.files_read;
  for (const std::string& warning : settings.warnings) warn(report, warning);
  if (store) {
    // Said now rather than after a three-day training: the run goes on, and its report is kept in a file.
    try {
      RunStore::open(*store, RunStore::Mode::Create);
    } catch (const std::exception& e) {
      std::fprintf(
          stderr,
          "wattprint: warning: run history: %s (the run goes on; its report will be kept in a file)\n",
          e.what());
    }
  }

  std::string no_baseline_reason;
  report.idle_baseline =
      resolve_idle_baseline(flags, config, settings, interval_s, report, no_baseline_reason);

  OpenedSources sources = open_measurement_sources(settings);
  report.sensor_statuses = sources.statuses;
  const std::string server_reason = sources.server.unavailable_reason;
  if (!sources.server.source && settings.server_requested) warn(report, "server power: " + server_reason);

  become_child_subreaper();
  ProcessTreeMonitor tree(procfs, ::getpid());
  const SystemClock clock;
  // The machine's CPU time and memory (the denominators of the shares): /proc, or WATTPRINT_PROC_ROOT for
  // tests and containers (only /proc/stat and /proc/meminfo are read there).
  const ProcFs machine_procfs(environment("WATTPRINT_PROC_ROOT").value_or("/proc"));
  // Declared before the sampler: its thread hands snapshots to the journal, whose thread reads the inputs.
  RunReportInputs inputs;
  JournalFileSystem journal_files;
  std::unique_ptr<RunJournal> journal;
  RunSampler sampler(std::move(sources.counters), tree, machine_procfs, clock, Seconds(interval_s));
  // Inside a batch job, the job's cgroup (every rank on this node) is what the process method attributes to.
  std::unique_ptr<CgroupUsageSource> job_group;
  if (report.job) {
    const RunJobCgroup found = find_run_job_cgroup(environment, *report.job, procfs, ::getpid());
    report.job->cgroup = found.path;
    report.job->attribution = found.attribution;
    if (found.usable) {
      job_group = std::make_unique<CgroupUsageSource>(CgroupFs(found.root, procfs), *found.path);
      sampler.attach_group(*job_group);
    }
  }
  if (sources.server.source) {
    sampler.attach_server(
        std::make_unique<ServerSampler>(std::move(sources.server.source), clock, settings.server_interval));
  }
  report.counter_period_s = sampler.counter_period().count();

  // Phase marks: the control socket (always, so that `wattprint mark` and the libraries work in every run)
  // and the command's output when patterns were given.
  MarkQueue marks;
  sampler.attach_marks(marks);
  SpawnOptions spawn;
  spawn.environment.emplace_back(kRunIdVariable, report.run_id);
  std::unique_ptr<ControlSocketServer> control;
  try {
    control = std::make_unique<ControlSocketServer>(marks);
    spawn.environment.emplace_back(kControlSocketVariable, control->path().string());
    if (group) {
      control->set_member_handler([&tree](std::string_view line) { take_member_line(line, tree); });
      group->publish(control->path());
    }
  } catch (const std::exception& e) {
    warn(report, fmt::format("phase marks from the command are off: {}", e.what()));
    control.reset();
  }
  std::unique_ptr<OutputRelay> relay;
  if (!patterns.empty()) {
    relay = std::make_unique<OutputRelay>(std::move(patterns), marks, clock);
    const RelayChildEnds ends = relay->open();
    spawn.stdout_fd = ends.stdout_fd;
    spawn.stderr_fd = ends.stderr_fd;
  }
  TimelineDownsampler timeline;
  sampler.attach_sink(timeline);
  if (csv) sampler.attach_sink(*csv);

  inputs.methods.estimate = estimate;
  inputs.methods.estimate.cores_source = "CPU time of the command's processes ÷ wall time, as `time` shows";
  const std::string cpu_model = flags.hardware.cpu.value_or(config.cpu.value_or(report.host.cpu_model));
  inputs.methods.estimate.cpu = resolve_cpu_power(cpu_model, cpu_tdp, report.host.cores_per_socket);
  if (memory_gb) {
    inputs.memory_booked = true;
    inputs.methods.estimate.memory_gb = *memory_gb;
    inputs.methods.estimate.memory_source =
        flags.hardware.memory_gb ? "--memory-gb (booked memory)" : "memory_gb in the config";
  }
  if (const char* value = std::getenv("CUDA_VISIBLE_DEVICES")) inputs.cuda_visible = std::string(value);
  inputs.gpus_flag = flags.gpus;
  inputs.methods.rapl_reason = sources.rapl_reason;
  inputs.methods.gpu_reason = sources.gpu_reason;
  inputs.methods.server_reason = server_reason;
  inputs.methods.no_baseline_reason = no_baseline_reason;
  inputs.control = control.get();

  CommandExit exit;
  {
    SignalForwarding forwarding;
    report.started_at = iso8601_utc_now();
    if (journal_dir)
      journal = start_journal(*journal_dir, report, journal_files, sampler, timeline, inputs, environment);
    if (control) control->start();
    sampler.start();
    const SpawnResult spawned = spawn_command(flags.command, spawn);
    if (relay) relay->start();
    if (spawned.pid < 0) {
      report.error = fmt::format("cannot start a process: {}", std::strerror(spawned.exec_error));
      exit = {126, std::nullopt};
    } else {
      forwarding.set_target(spawned.pid);
      exit = wait_for_command(spawned.pid, tree);
      if (spawned.exec_error != 0) {
        report.error =
            fmt::format("cannot run '{}': {}", flags.command.front(), std::strerror(spawned.exec_error));
        exit = {spawned.exec_error == ENOENT ? 127 : 126, std::nullopt};
      }
    }
    // The node's other ranks that joined this run: their commands are part of it.
    if (group) group->wait_for_members();
    // What the command printed or sent just before it ended is still taken.
    if (relay) relay->finish();
    if (control) control->stop();
  }
  const RunMeasurement m = sampler.finish();
  if (journal) {
    journal->stop();
    if (const std::string failure = journal->failure(); !failure.empty()) report.warnings.push_back(failure);
  }
  report.exit_code = exit.exit_code;
  report.signal = exit.signal;
  complete_run_report(report, m, inputs, true);
  report.timeline = timeline.timeline();
  if (csv && !csv->error().empty()) warn(report, "--csv: " + csv->error());
  report.monitor = monitor_cost();

  if (!report.error.empty()) std::fprintf(stderr, "wattprint: %s\n", report.error.c_str());
  std::fputs(render_summary(report).c_str(), stderr);
  const nlohmann::json report_json = to_json(report);
  std::optional<std::string> json_written;
  if (flags.json_path) {
    try {
      write_file_atomically(*flags.json_path, report_json.dump(2) + "\n");
      std::fprintf(stderr, "  report written to %s\n", flags.json_path->c_str());
      json_written = flags.json_path;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "wattprint: error: %s\n", e.what());
    }
  }
  if (csv && csv->error().empty()) std::fprintf(stderr, "  samples written to %s\n", flags.csv_path->c_str());
  if (flags.html_path) {
    try {
      write_file_atomically(*flags.html_path, render_report(report_json, ReportFormat::Html));
      std::fprintf(stderr, "  HTML report written to %s\n", flags.html_path->c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "wattprint: error: %s\n", e.what());
    }
  }
  bool kept = json_written.has_value();
  if (store) kept = store_finished_run(report_json, *store, json_written) || kept;
  if (journal && kept) {
    journal->remove();
  } else if (journal) {
    // Kept nowhere else: the journal keeps the final report (its samples go) until it is recovered.
    if (const int error = journal->compact(report_json.dump(2) + "\n"); error == 0) {
      std::fprintf(stderr, "  report kept in %s: wattprint report --recover %s\n",
                   journal->directory().c_str(), report.run_id.c_str());
    } else {
      std::fprintf(stderr, "wattprint: warning: the report was kept nowhere: cannot write %s: %s\n",
                   journal->directory().c_str(), std::strerror(error));
    }
  }
  return exit.exit_code;
}

constexpr const char* kPlaceholderHelp =
    "In a batch job, placeholders name one file per node or task: %h short host name, %H full host name, "
    "%j job id (nojob outside a job), %s step id, %t task rank, %n local rank, %p pid, %% a percent sign "
    "(docs/clusters.md)";

}  // namespace

Action add_run_command(CLI::App& app, const std::vector<std::string>& command_after_separator) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run =
      app.add_subcommand("run",
                         "Run a command and measure its energy like `time` does: the command keeps the "
                         "terminal, wattprint prints "
                         "its report on stderr at the end and exits with the command's status.\n"
                         "  wattprint run -- python train.py --epochs 3\n"
                         "  wattprint run --pue 1.65 --country FR --json run.json -- ./solver input.dat");
  run->add_option_function<std::string>(
         "--interval", [flags](const std::string& v) { flags->interval = v; },
         "Sampling and attribution interval in seconds (default 1). Counters that could wrap sooner are "
         "read more often")
      ->type_name("SECONDS");
  run->add_option_function<std::string>(
         "--json", [flags](const std::string& v) { flags->json_path = v; },
         std::string("Also write the full report as JSON to FILE (schema: docs/report-schema.md). ") +
             kPlaceholderHelp)
      ->type_name("FILE");
  run->add_option_function<std::string>(
         "--gpus", [flags](const std::string& v) { flags->gpus = v; },
         "The GPUs that belong to this run: indices or UUIDs, comma-separated (default: "
         "CUDA_VISIBLE_DEVICES, "
         "else the GPUs the command used, else all)")
      ->type_name("LIST")
      ->group("GPUs");
  add_source_flags(*run, flags->sources);
  const std::string idle_group = "Idle baseline (server-minus-idle)";
  add_text_option(*run, "--idle-watts", flags->idle_watts,
                  "The idle server's power in watts, e.g. 156 (default: the baseline `wattprint idle` stored "
                  "for this host)")
      ->type_name("W")
      ->group(idle_group);
  add_text_option(*run, "--idle-before", flags->idle_before,
                  "Measure the idle power for SECONDS just before starting the command (the machine must be "
                  "idle then)")
      ->type_name("SECONDS")
      ->group(idle_group);
  add_text_option(*run, "--state-dir", flags->state_dir,
                  "Where stored idle baselines are looked up (default: WATTPRINT_STATE_DIR, else "
                  "~/.local/state/wattprint, then /var/lib/wattprint)")
      ->type_name("DIR")
      ->group(idle_group);
  const std::string phase_group = "Phases (epochs): see docs/markers.md";
  run->add_option_function<std::vector<std::string>>(
         "--mark-regex",
         [flags](const std::vector<std::string>& v) {
           flags->mark_regex.insert(flags->mark_regex.end(), v.begin(), v.end());
         },
         "Start a phase on each line of the command's output (stdout or stderr) matching [NAME=]REGEX, e.g. "
         "'Epoch (\\d+)'. NAME defaults to the first word matched, lower-cased; a number captured by the "
         "first group is the phase's index. The output still reaches the terminal unchanged. Repeatable")
      ->type_name("[NAME=]REGEX")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(phase_group);
  run->add_option_function<std::vector<std::string>>(
         "--mark-end-regex",
         [flags](const std::vector<std::string>& v) {
           flags->mark_end_regex.insert(flags->mark_end_regex.end(), v.begin(), v.end());
         },
         "End the open phase NAME on each output line matching REGEX (otherwise a phase ends when the next "
         "one of its name starts, or with the run). Repeatable")
      ->type_name("[NAME=]REGEX")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(phase_group);
  add_text_option(*run, "--csv", flags->csv_path,
                  "Write one row per sample to FILE while the run goes on: time, each sensor's power and "
                  "cumulative energy, the command's CPU share, the current phase. " +
                      std::string(kPlaceholderHelp))
      ->type_name("FILE");
  add_text_option(*run, "--html", flags->html_path,
                  "Also write a self-contained HTML report with charts to FILE (opens offline). " +
                      std::string(kPlaceholderHelp))
      ->type_name("FILE");
  const std::string history_group = "Run history: see `wattprint runs --help`, docs/run-history.md";
  run->add_option_function<std::vector<std::string>>(
         "--tag",
         [flags](const std::vector<std::string>& v) {
           flags->tags.insert(flags->tags.end(), v.begin(), v.end());
         },
         "Label the run, e.g. --tag model=resnet50 --tag gpu=t4: kept in the report and the history, for "
         "`wattprint runs --tag` and `wattprint compare`. Repeatable")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(history_group);
  add_text_option(*run, "--store", flags->store,
                  "Store the run in this database (default: WATTPRINT_STORE, else `store` in the "
                  "configuration, else ~/.local/share/wattprint/runs.db)")
      ->type_name("PATH")
      ->group(history_group);
  run->add_flag("--no-store", flags->no_store, "Keep no history of this run (also WATTPRINT_STORE=none)")
      ->group(history_group);
  const std::string journal_group = "Journal (crash recovery): see docs/recovery.md";
  run->add_flag("--no-journal", flags->no_journal,
                "Keep no journal: a crash, kill -9 or reboot then loses the whole measurement")
      ->group(journal_group);
  add_text_option(
      *run, "--journal-dir", flags->journal_dir,
      "Journal the run here (default: WATTPRINT_JOURNAL_DIR, else $XDG_STATE_HOME/wattprint/journal, "
      "else ~/.local/state/wattprint/journal): the report so far every 2 s and every sample, so that "
      "`wattprint report --recover` rebuilds it after a crash, kill -9 or reboot")
      ->type_name("DIR")
      ->group(journal_group);
  add_text_option(*run, "--one-per-node", flags->one_per_node,
                  "auto (default): in a Slurm or OAR job, the first `wattprint run` of a job step on a node "
                  "measures the node and the node's other ranks join it (they run unmeasured, say which pid "
                  "measures for them, and the measurer waits for them before writing its report); off: every "
                  "rank measures and writes its own report. See docs/clusters.md")
      ->type_name("auto|off");
  add_footprint_flags(*run, flags->footprint);
  add_hardware_flags(*run, flags->hardware, false);
  // Everything from the first word that is not an option of wattprint (or after "--") is the command.
  run->prefix_command();
  run->footer("COMMAND [ARGS...] follows the options, after \"--\" if it could be mistaken for one.");
  return [run, flags, &command_after_separator] {
    for (const auto& word : run->remaining()) flags->command.push_back(word);
    if (!flags->command.empty() && flags->command.front().size() > 1 && flags->command.front()[0] == '-') {
      throw UsageError(fmt::format("run: unknown option '{}' (see wattprint run --help)",
                                   flags->command.front().substr(0, flags->command.front().find('='))));
    }
    if (!flags->command.empty() && !command_after_separator.empty()) {
      throw UsageError(
          fmt::format("run: '{}' is not an option of wattprint run; put the command after \"--\"",
                      flags->command.front()));
    }
    flags->command.insert(flags->command.end(), command_after_separator.begin(),
                          command_after_separator.end());
    return execute(*flags);
  };
}

}  // namespace wattprint::cli
