// GPU selection rules for a run; device lists parsed as the CUDA runtime parses CUDA_VISIBLE_DEVICES.
#include "attribution/gpu_selection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace wattprint {

namespace {

std::string trim_copy(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

/// The parent GPU UUID of the old MIG form "MIG-GPU-<uuid>/<gi>/<ci>", if it is that form.
std::optional<std::string> parent_of_legacy_mig(const std::string& text) {
  if (!starts_with(text, "MIG-GPU-")) return std::nullopt;
  const std::string rest = text.substr(4);
  return rest.substr(0, rest.find('/'));
}

}  // namespace

std::vector<GpuListEntry> parse_gpu_list(const std::string& text) {
  std::vector<GpuListEntry> entries;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item =
        trim_copy(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) break;
    GpuListEntry entry;
    entry.text = item;
    if (std::all_of(item.begin(), item.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
      if (item.size() > 6) break;
      entry.kind = GpuListEntry::Kind::Index;
      entry.index = static_cast<unsigned>(std::stoul(item));
    } else if (starts_with(item, "GPU-")) {
      entry.kind = GpuListEntry::Kind::GpuUuid;
    } else if (starts_with(item, "MIG-")) {
      entry.kind = GpuListEntry::Kind::MigUuid;
    } else {
      break;  // "-1" or anything else ends the list
    }
    entries.push_back(entry);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return entries;
}

namespace {

/// Devices named by a list; `unresolved` gets the entries that name no device here.
std::vector<bool> resolve(const std::vector<GpuDevice>& devices, const std::vector<GpuListEntry>& entries,
                          std::vector<std::string>& unresolved) {
  std::vector<bool> chosen(devices.size(), false);
  for (const GpuListEntry& entry : entries) {
    bool found = false;
    for (std::size_t i = 0; i < devices.size(); ++i) {
      const GpuDevice& d = devices[i];
      switch (entry.kind) {
        case GpuListEntry::Kind::Index:
          found = d.index == entry.index;
          break;
        case GpuListEntry::Kind::GpuUuid:
          found = !d.uuid.empty() && starts_with(d.uuid, entry.text);
          break;
        case GpuListEntry::Kind::MigUuid: {
          const auto parent = parent_of_legacy_mig(entry.text);
          found = parent && !d.uuid.empty() && d.uuid == *parent;
          break;
        }
      }
      if (found) {
        chosen[i] = true;
        break;
      }
    }
    if (!found) unresolved.push_back(entry.text);
  }
  return chosen;
}

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& w : words) text += (text.empty() ? "" : ", ") + w;
  return text;
}

}  // namespace

GpuSelection select_gpus(const std::vector<GpuDevice>& devices,
                         const std::optional<std::string>& explicit_list,
                         const std::optional<std::string>& cuda_visible,
                         const std::vector<bool>& used_by_command,
                         const std::optional<SchedulerGpus>& scheduler) {
  GpuSelection selection;
  selection.selected.assign(devices.size(), false);
  selection.reasons.assign(devices.size(), "");
  std::vector<std::string> unresolved;

  const auto from_list = [&](const std::string& list, const std::string& rule) {
    selection.rule = rule;
    selection.selected = resolve(devices, parse_gpu_list(list), unresolved);
    for (std::size_t i = 0; i < devices.size(); ++i) {
      selection.reasons[i] = selection.selected[i] ? "named by " + rule : "not named by " + rule;
    }
    if (!unresolved.empty()) {
      selection.rule += fmt::format(" (not found here: {})", join(unresolved));
    }
  };

  if (explicit_list) {
    from_list(*explicit_list, "--gpus " + *explicit_list);
    return selection;
  }
  if (scheduler) {
    // The job's own GPUs, as the scheduler numbers them (physical indices or UUIDs); an empty list: none.
    from_list(scheduler->list,
              fmt::format("the batch job's GPUs ({}={})", scheduler->source, scheduler->list));
    return selection;
  }
  if (cuda_visible) {
    const auto entries = parse_gpu_list(*cuda_visible);
    const bool mig_only =
        !entries.empty() && std::all_of(entries.begin(), entries.end(), [](const GpuListEntry& e) {
          return e.kind == GpuListEntry::Kind::MigUuid && !parent_of_legacy_mig(e.text);
        });
    if (!mig_only) {
      from_list(*cuda_visible, "CUDA_VISIBLE_DEVICES=" + *cuda_visible);
      return selection;
    }
    // MIG device UUIDs name a slice of a GPU this version cannot map to its parent: fall through to the
    // GPUs the command used.
  }
  const bool any_used =
      std::find(used_by_command.begin(), used_by_command.end(), true) != used_by_command.end();
  if (any_used) {
    selection.rule = "GPUs the command's processes used";
    for (std::size_t i = 0; i < devices.size(); ++i) {
      selection.selected[i] = i < used_by_command.size() && used_by_command[i];
      selection.reasons[i] =
          selection.selected[i] ? "the command's processes used it" : "not used by the command";
    }
    return selection;
  }
  selection.rule = "all GPUs (no --gpus, no CUDA_VISIBLE_DEVICES, no GPU process of the command seen)";
  for (std::size_t i = 0; i < devices.size(); ++i) {
    selection.selected[i] = true;
    selection.reasons[i] = "all GPUs counted";
  }
  return selection;
}

}  // namespace wattprint
