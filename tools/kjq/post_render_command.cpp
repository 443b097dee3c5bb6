// kjq post-render: Helm's post-renderer (Helm 3 --post-renderer, the Helm 4 plugin in
// helm-plugin/kjq-post-render). The chart's stream on stdin, the fixed stream on stdout; on any
// problem nothing at all on stdout, so Helm installs nothing (docs/post-render.md).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "postrender/post_render.hpp"
#include "util/batch_heap.hpp"
#include "util/diagnostic.hpp"
#include "util/file_read.hpp"
#include "values_flags.hpp"

namespace kjq::cli {

namespace {
struct PostRenderFlags {
  values::ValuesOptions values;
  postrender::PostRenderOptions options;
};

std::string read_stdin(std::size_t max_bytes) {
  try {
    return read_fd_bounded(STDIN_FILENO, postrender::kStdinName, {max_bytes, /*allow_special=*/true});
  } catch (const FileReadError& e) {
    if (e.problem() != FileReadProblem::too_large) throw;
    throw InputError(Diagnostic{postrender::kStdinName, 0, 0, "", e.reason()});
  }
}

int run_post_render(PostRenderFlags flags) {
  util::use_batch_heap();
  if (flags.options.namespace_.empty()) {
    // Helm 4 tells its plugins the release namespace; the chart's objects usually say it too.
    if (const char* ns = std::getenv("HELM_NAMESPACE"); ns && *ns) flags.options.namespace_ = ns;
  }
  const auto doc = values::load_values(flags.values);
  const std::string input = read_stdin(flags.options.limits.max_bytes);
  const auto result = postrender::post_render(input, doc, flags.options);
  for (const auto& warning : result.warnings) std::cerr << "kjq: warning: " << warning << '\n';
  std::cout.write(result.output.data(), static_cast<std::streamsize>(result.output.size()));
  std::cout.flush();
  return std::cout ? kExitOk : kExitFailure;
}
}  // namespace

Command add_post_render_command(CLI::App& app) {
  auto flags = std::make_shared<PostRenderFlags>();
  auto* cmd = app.add_subcommand("post-render",
                                 "Helm post-renderer: read the chart's rendered objects on stdin, check the job "
                                 "manifests, mount them as a live-updating directory, apply kjq's value extensions, "
                                 "and print the objects (nothing on stdout on any error)");
  add_values_flags(*cmd, flags->values);
  cmd->add_option("-n,--namespace", flags->options.namespace_,
                  "release namespace (default: $HELM_NAMESPACE, else the manifests ConfigMap's, else default)");
  cmd->add_flag("--with-serve", flags->options.with_serve,
                "also print the objects that run kjq serve beside Nautobot (settings: kjqServe in the values)");
  cmd->add_flag("--kustomize-patches", flags->options.kustomize_patches,
                "print the changes as Kustomize patches (for Flux's postRenderers) instead of the objects");
  return [flags] { return run_post_render(*flags); };
}

}  // namespace kjq::cli
