#pragma once
// Just enough of the Kubernetes protobuf wire format to read the bodies kubectl insists on
// sending as application/vnd.kubernetes.protobuf (kubectl auth can-i posts a
// SelfSubjectAccessReview that way). Answers are always JSON, which such clients also accept.
#include <nlohmann/json.hpp>
#include <string>

namespace kjq::emulator {

// Decodes a "k8s\0"-prefixed runtime.Unknown envelope holding an authorization.k8s.io/v1
// SelfSubjectAccessReview into its JSON form. Throws ApiError(400) on malformed input and
// ApiError(415) for other kinds.
nlohmann::json decode_protobuf_self_subject_access_review(const std::string& body);

}  // namespace kjq::emulator
