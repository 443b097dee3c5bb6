#pragma once
// post-render's changes as Kustomize patches, for Flux's HelmRelease, whose postRenderers run
// only Kustomize: one JSON 6902 patch per changed object, targeted by kind and name. Applied to
// the chart's output (`kubectl kustomize`, Flux), they give the objects `kjq post-render` prints.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "postrender/manifest_stream.hpp"

namespace kjq::postrender {

// The JSON 6902 operations that turn `before` into `after`: maps are compared key by key, lists
// of the same length item by item, other lists and scalars are replaced whole. `path` is the
// JSON pointer of both values; items appended to a list are added at its end ("/-").
void append_json_patch(nlohmann::json& operations, const nlohmann::json& before, const nlohmann::json& after,
                       const std::string& path = "");

// A Kustomize `patches:` list ({target: {group, version, kind, name}, patch: <ops as JSON>})
// for every object whose content differs (`before` and `after` hold the same objects in order).
nlohmann::json kustomize_patches(const std::vector<StreamDocument>& before, const std::vector<StreamDocument>& after);

}  // namespace kjq::postrender
