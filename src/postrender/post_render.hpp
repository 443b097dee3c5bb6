#pragma once
// `kjq post-render`: Helm's post-renderer. The chart's rendered stream comes in; every object goes
// out, with kjq's fixes: each job manifest checked, the manifests mounted as a live-updating
// directory in every pod that mounts them, kjq's value extensions applied, and on request the
// objects that run kjq serve. Nothing is written unless all of it succeeds (the CLI prints the
// result only then), so a problem stops the install.
#include <string>
#include <string_view>
#include <vector>

#include "postrender/manifest_stream.hpp"
#include "values/values_document.hpp"

namespace kjq::postrender {

struct PostRenderOptions {
  std::string namespace_;  // the release namespace; "" → the ConfigMap's metadata.namespace, else "default"
  bool with_serve = false;
  bool kustomize_patches = false;  // print the changes as Kustomize patches instead of the stream
  StreamLimits limits;
};

struct PostRenderResult {
  std::string output;                 // what goes to stdout
  std::vector<std::string> warnings;  // for stderr
  int rewired_pods = 0;               // pod templates that mount the manifests
};

// Throws kjq::InputError listing the problems (of the stream, the values or the manifests).
PostRenderResult post_render(std::string_view input, const values::ValuesDocument& doc,
                             const PostRenderOptions& options);

}  // namespace kjq::postrender
