// kjq render: the chart's Kubernetes objects, and optionally the <queue>/manifest.json tree.
#include <iostream>
#include <memory>
#include <string>

#include "chart/release.hpp"
#include "chart/render.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "output/go_json.hpp"
#include "output/job_queues_dir.hpp"
#include "output/yaml_emitter.hpp"
#include "util/batch_heap.hpp"
#include "util/diagnostic.hpp"
#include "values_flags.hpp"

namespace kjq::cli {

namespace {
struct RenderFlags {
  values::ValuesOptions values;
  chart::Release release;
  std::string output = "yaml";
  std::string job_queues_dir;
  bool nautobot_wiring = false;
  std::string wiring_container = "nautobot";
};

int run_render(const RenderFlags& flags) {
  for (const auto& problem :
       {chart::release_name_problem(flags.release.name), chart::namespace_problem(flags.release.namespace_)}) {
    if (!problem.empty()) throw InputError(Diagnostic{"", 0, 0, "", problem});
  }
  util::use_batch_heap();
  // Held until the process exits and never destroyed: freeing the values and the objects node
  // by node is a tenth of a 1,000-queue render, work that the exit does for free. The static
  // pointer keeps them reachable for leak checkers.
  struct Kept {
    values::ValuesDocument doc;
    chart::RenderedChart rendered;
  };
  static Kept* const kept = new Kept;
  kept->doc = values::load_values(flags.values);
  const auto& doc = kept->doc;
  kept->rendered = chart::render_chart(doc, flags.release);
  auto& rendered = kept->rendered;
  for (const auto& warning : rendered.warnings) std::cerr << "kjq: warning: " << warning << '\n';
  if (!flags.job_queues_dir.empty()) {
    auto result = output::write_job_queues_dir(flags.job_queues_dir, rendered.queue_manifests);
    for (const auto& queue : result.removed) {
      std::cerr << "kjq: removed queue \"" << queue << "\" (no longer enabled) from " << flags.job_queues_dir << '\n';
    }
  }
  if (flags.nautobot_wiring) {
    // Only the strategic-merge patch for the Nautobot web Deployments (docs/values.md).
    if (!rendered.wiring.enabled()) {
      std::cerr << "kjq: warning: no Kubernetes queue is enabled: the wiring patch removes the "
                   "manifests volume, mount, environment and annotation\n";
    }
    auto patch = chart::nautobot_wiring_patch(rendered.wiring, flags.wiring_container);
    if (flags.output == "yaml") {
      std::cout << output::to_yaml_stream({patch});
    } else if (flags.output == "json") {
      std::cout << output::to_go_pretty_json(patch) << '\n';
    }
  } else if (flags.output == "yaml") {
    // What to_yaml_stream returns, written in pieces of about 64 KiB as it is produced: the whole
    // stream (4 MB for 1,000 queues) is never held, nor copied while it grows.
    std::string text;
    text.reserve(128 * 1024);
    const output::YamlFlush flush = [](std::string& pending) {
      std::cout.write(pending.data(), static_cast<std::streamsize>(pending.size()));
      pending.clear();
    };
    for (const auto& object : rendered.objects) {
      text += "---\n";
      output::append_yaml(text, object, flush);
    }
    flush(text);
  } else if (flags.output == "json") {
    // The objects are moved into the List, not copied: they are not needed after this.
    nlohmann::json list = {{"apiVersion", "v1"},
                           {"kind", "List"},
                           {"metadata", {{"resourceVersion", ""}}},
                           {"items", std::move(rendered.objects)}};
    std::cout << output::to_go_pretty_json(list) << '\n';
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitFailure;
}
}  // namespace

Command add_render_command(CLI::App& app) {
  auto flags = std::make_shared<RenderFlags>();
  auto* cmd =
      app.add_subcommand("render",
                         "Render the job-queue manifests ConfigMap, ServiceAccount, RBAC, extraObjects and the Celery "
                         "worker and Beat Deployments "
                         "(like `helm template`), and optionally write <dir>/<queue>/manifest.json");
  add_values_flags(*cmd, flags->values);
  cmd->add_option("--release-name", flags->release.name, "Helm release name")->capture_default_str();
  cmd->add_option("-n,--namespace", flags->release.namespace_, "release namespace")->capture_default_str();
  cmd->add_option("--chart-version", flags->release.chart_version, "chart version for the helm.sh/chart label")
      ->capture_default_str();
  cmd->add_option("--app-version", flags->release.app_version,
                  "app version for the app.kubernetes.io/version label and the default image tag")
      ->capture_default_str();
  cmd->add_option("--managed-by", flags->release.managed_by,
                  "app.kubernetes.io/managed-by label (Helm reproduces the chart exactly)")
      ->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "output format: yaml, json (a v1 List) or none")
      ->check(CLI::IsMember({"yaml", "json", "none"}))
      ->capture_default_str();
  cmd->add_option("--job-queues-dir", flags->job_queues_dir,
                  "also write DIR/<queue>/manifest.json for every enabled Kubernetes queue")
      ->type_name("DIR");
  cmd->add_flag("--nautobot-wiring", flags->nautobot_wiring,
                "print, instead of the objects, the strategic-merge patch that wires the manifests "
                "into a Nautobot web Deployment (volume, mount, env, checksum annotation, token)");
  cmd->add_option("--wiring-container", flags->wiring_container,
                  "container that gets the mount and env in the --nautobot-wiring patch")
      ->capture_default_str();
  return [flags] { return run_render(*flags); };
}

}  // namespace kjq::cli
