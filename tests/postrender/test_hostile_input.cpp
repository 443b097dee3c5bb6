// What kjq post-render refuses: streams that are empty, cut short, not YAML, too large, too deep,
// alias bombs, objects Helm could not install, and job manifests the first job would fail on.
// Each is a kjq::InputError (the CLI prints nothing on stdout for it: tests/e2e).
#include <gtest/gtest.h>

#include <filesystem>

#include "postrender/manifest_stream.hpp"
#include "postrender/post_render.hpp"
#include "support/test_support.hpp"

using nlohmann::json;
using namespace kjq::postrender;

namespace {

std::string case01() {
  return kjq::test::read_text(kjq::test::fixtures_dir() / "post-render-cases" / "01-two-kubernetes-queues" /
                              "chart-output.yaml");
}

kjq::values::ValuesDocument no_values() { return kjq::values::values_from_json(json::object(), "none"); }

// The message of the InputError post_render throws ("" when it succeeds).
std::string refusal(const std::string& input, const PostRenderOptions& options = {},
                    const kjq::values::ValuesDocument& doc = no_values()) {
  try {
    (void)post_render(input, doc, options);
  } catch (const kjq::InputError& e) {
    return e.what();
  }
  return "";
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(PostRenderInput, AnEmptyStreamIsRefused) {
  EXPECT_NE(refusal("").find("the stream is empty"), std::string::npos);
  EXPECT_NE(refusal("\n\n").find("the stream is empty"), std::string::npos);
  EXPECT_NE(refusal("---\n# Source: x.yaml\n---\n").find("holds no object"), std::string::npos);
}

TEST(PostRenderInput, AStreamThatIsNotYamlIsRefused) {
  EXPECT_NE(refusal("{{ .Values.x }\n").find("<stdin>:1"), std::string::npos);
  EXPECT_NE(refusal("\x01\x02binary\n").find("<stdin>"), std::string::npos);
  EXPECT_NE(refusal(std::string("kind: A\0B\n", 10)).find("NUL byte"), std::string::npos);
  EXPECT_NE(refusal("- a\n- b\n").find("expected a Kubernetes object"), std::string::npos);
  EXPECT_NE(refusal("just a string\n").find("expected a Kubernetes object"), std::string::npos);
}

TEST(PostRenderInput, ATruncatedStreamIsRefusedWhereverItIsCut) {
  const std::string full = case01();
  // Inside a line, at the end of a line in the middle of a manifest, and after a document's
  // header: every cut fails, none prints a partial stream.
  for (const std::size_t cut : {full.size() / 3, full.find("\"kind\": \"Job\",\n") + 15,
                                full.find("apiVersion: apps/v1\n") + 20, full.size() - 1}) {
    SCOPED_TRACE(cut);
    EXPECT_NE(refusal(full.substr(0, cut)), "");
  }
}

TEST(PostRenderInput, AnObjectWithoutKindOrNameIsRefusedWithItsLine) {
  const std::string message = refusal("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\napiVersion: v1\n");
  EXPECT_NE(message.find("<stdin>:1: metadata.name: expected a non-empty string"), std::string::npos) << message;
  const std::string second = refusal(replaced(case01(), "kind: Service\n", "kind: 7\n"));
  EXPECT_NE(second.find(": kind: expected a non-empty string"), std::string::npos) << second;
}

TEST(PostRenderInput, AnAliasBombIsRefusedBeforeItExpands) {
  std::string bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nlol0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "lol" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    bomb += "]\n";
  }
  EXPECT_NE(refusal(bomb).find("<stdin>"), std::string::npos);
}

TEST(PostRenderInput, DeepNestingIsRefused) {
  std::string deep = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: ";
  deep += std::string(500, '[') + std::string(500, ']') + "\n";
  EXPECT_NE(refusal(deep).find("<stdin>"), std::string::npos);
}

TEST(PostRenderInput, AStreamOverTheLimitIsRefused) {
  PostRenderOptions options;
  options.limits.max_bytes = 1000;
  EXPECT_NE(refusal(case01(), options).find("larger than 1000 bytes"), std::string::npos);
  options = {};
  options.limits.max_documents = 3;
  EXPECT_NE(refusal(case01(), options).find("more than 3 objects"), std::string::npos);
}

TEST(PostRenderInput, AnIntegerTooLargeToKeepExactlyIsRefusedNotChanged) {
  const std::string message =
      refusal("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nspec: {list: [1, 9007199254740993]}\n");
  EXPECT_NE(message.find("<stdin>:1: spec.list[1]: the number 9007199254740992 is too large"), std::string::npos)
      << message;
  EXPECT_EQ(refusal("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nspec: {n: 9007199254740991}\n"), "");
}

TEST(PostRenderInput, DuplicateKeysAreRefused) {
  EXPECT_NE(refusal("apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: x}\n"), "");
}

TEST(PostRenderManifests, AManifestThatIsNotAJobNamesTheQueue) {
  // alpha's manifest comes first in the ConfigMap.
  const std::string message = refusal(replaced(case01(), "\"kind\": \"Job\",", "\"kind\": \"Pod\","));
  EXPECT_NE(message.find("ConfigMap \"nautobot-k8s-jobs-manifests\", queue \"alpha\": the manifest is not a Job"),
            std::string::npos)
      << message;
}

TEST(PostRenderManifests, AManifestThatIsNotJsonNamesTheQueue) {
  const std::string message = refusal(replaced(case01(), "\"kind\": \"Job\",", "\"kind\": \"Job\""));
  EXPECT_NE(message.find("queue \"alpha\": the manifest is not valid JSON"), std::string::npos) << message;
}

TEST(PostRenderManifests, TheMainContainerMustStayFirst) {
  const std::string message = refusal(replaced(case01(), "\"name\": \"nautobot-job\",\n", "\"name\": \"other\",\n"));
  EXPECT_NE(message.find("queue \"alpha\": the job's first container must be \"nautobot-job\""), std::string::npos)
      << message;
}

TEST(PostRenderManifests, AMountWithoutItsVolumeIsRefused) {
  const std::string message =
      refusal(replaced(case01(), "\"mountPath\": \"/opt/nautobot/git\",\n                    \"name\": \"git-repos\"",
                       "\"mountPath\": \"/opt/nautobot/git\",\n                    \"name\": \"gone\""));
  EXPECT_NE(message.find("queue \"alpha\": container \"nautobot-job\" mounts volume \"gone\""), std::string::npos)
      << message;
}

TEST(PostRenderManifests, AJobRestartPolicyOfAlwaysIsRefused) {
  const std::string message =
      refusal(replaced(case01(), "\"restartPolicy\": \"Never\"", "\"restartPolicy\": \"Always\""));
  EXPECT_NE(message.find("queue \"alpha\": spec.template.spec.restartPolicy is \"Always\""), std::string::npos)
      << message;
}

TEST(PostRenderManifests, AnOversizedManifestIsRefused) {
  const std::string big = "\"kind\": \"Job\",\n      \"x\": \"" + std::string(1100 * 1024, 'a') + "\",";
  const std::string message = refusal(replaced(case01(), "\"kind\": \"Job\",", big));
  EXPECT_NE(message.find("queue \"alpha\": the manifest is refused"), std::string::npos) << message.substr(0, 300);
}

TEST(PostRenderManifests, APodNamePrefixWithoutRoomForTheUuidIsRefused) {
  const std::string prefix(30, 'p');
  const std::string message =
      refusal(replaced(case01(), "  NAUTOBOT_ALLOWED_HOSTS: \"*\"\n",
                       "  NAUTOBOT_ALLOWED_HOSTS: \"*\"\n  NAUTOBOT_KUBERNETES_JOB_POD_NAME: " + prefix + "\n"));
  EXPECT_NE(message.find("NAUTOBOT_KUBERNETES_JOB_POD_NAME \"" + prefix + "\" leaves no room"), std::string::npos)
      << message;
  EXPECT_NE(message.find("67 characters"), std::string::npos) << message;
  // 26 characters fit exactly: 26 + 1 + 36 = 63.
  EXPECT_EQ(refusal(replaced(
                case01(), "  NAUTOBOT_ALLOWED_HOSTS: \"*\"\n",
                "  NAUTOBOT_ALLOWED_HOSTS: \"*\"\n  NAUTOBOT_KUBERNETES_JOB_POD_NAME: " + std::string(26, 'p') + "\n")),
            "");
}

TEST(PostRenderManifests, TwoManifestsConfigMapsAreRefused) {
  const std::string twice =
      case01() + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-k8s-jobs-manifests\n";
  EXPECT_NE(refusal(twice).find("a second job-manifests ConfigMap"), std::string::npos);
}

TEST(PostRenderManifests, EveryProblemIsReportedAtOnce) {
  std::string input = replaced(case01(), "\"kind\": \"Job\",", "\"kind\": \"Pod\",");
  input = replaced(input, "\"restartPolicy\": \"Never\"", "\"restartPolicy\": \"Always\"");  // alpha's
  const auto last = input.rfind("\"restartPolicy\": \"Never\"");                             // beta's
  input.replace(last, 24, "\"restartPolicy\": \"Sometimes\"");
  const std::string message = refusal(input);
  EXPECT_NE(message.find("queue \"alpha\""), std::string::npos) << message;
  EXPECT_NE(message.find("queue \"beta\": spec.template.spec.restartPolicy is \"Sometimes\""), std::string::npos)
      << message;
}

}  // namespace

namespace {

TEST(PostRenderInput, OddlyShapedWorkloadsAreLeftAsTheyAre) {
  const std::string odd =
      "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {template: 5}\n"
      "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec: {template: {spec: {volumes: x}}}\n"
      "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: c}\n"
      "spec: {template: {metadata: 7, spec: {containers: z, volumes: [{name: m, configMap: {name: "
      "nautobot-k8s-jobs-manifests}}]}}}\n"
      "---\napiVersion: v1\nkind: Pod\nmetadata: {name: d}\nspec: [1, 2]\n";
  const std::string input = case01() + odd;
  const auto result = post_render(input, no_values(), {});
  const auto in = read_manifest_stream(input);
  const auto out = read_manifest_stream(result.output);
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = out.size() - 4; i < out.size() - 2; ++i) EXPECT_EQ(out[i].object, in[i].object);
  // c mounts the manifests (no container can, its containers are not a list): the volume becomes
  // kjq's and the pod gets the wiring's metadata; d has no pod spec to change.
  const json& c = out[out.size() - 2].object["spec"]["template"];
  EXPECT_EQ(c["spec"]["volumes"][0]["configMap"]["items"].size(), 2u);
  EXPECT_EQ(c["spec"]["containers"], json("z"));
  EXPECT_EQ(out.back().object, in.back().object);
}

TEST(PostRenderWiring, ACronJobAndAPodThatMountTheManifestsAreWiredToo) {
  const std::string mount =
      "{name: nautobot, image: x, volumeMounts: [{name: m, mountPath: /etc/nautobot/job-queues/alpha/manifest.json, "
      "subPath: alpha}]}";
  const std::string volume = "{name: m, configMap: {name: nautobot-k8s-jobs-manifests}}";
  const std::string extra =
      "---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cron}\nspec: {schedule: \"* * * * *\", "
      "jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [" +
      mount + "], volumes: [" + volume +
      "]}}}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: pod}\n"
      "spec: {containers: [" +
      mount + "], volumes: [" + volume + "]}\n";
  const auto result = post_render(case01() + extra, no_values(), {});
  EXPECT_EQ(result.rewired_pods, 4);
  const auto out = read_manifest_stream(result.output);
  for (const json* spec :
       {&out[out.size() - 2].object["spec"]["jobTemplate"]["spec"]["template"]["spec"], &out.back().object["spec"]}) {
    EXPECT_EQ(
        (*spec)["containers"][0]["volumeMounts"],
        json::parse(
            R"([{"mountPath":"/etc/nautobot/job-queues","name":"nautobot-k8s-jobs-manifests","readOnly":true}])"));
    EXPECT_EQ((*spec)["volumes"][0]["name"], "nautobot-k8s-jobs-manifests");
    EXPECT_EQ((*spec)["automountServiceAccountToken"], true);
  }
}

TEST(PostRenderWiring, AnotherVolumeNamedLikeTheWiringsIsRefused) {
  const std::string extra =
      "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: clash}\nspec: {template: {spec: {containers: [], "
      "volumes: [{name: m, configMap: {name: nautobot-k8s-jobs-manifests}}, {name: nautobot-k8s-jobs-manifests, "
      "emptyDir: {}}]}}}\n";
  EXPECT_NE(refusal(case01() + extra).find("Deployment/clash: a volume named \"nautobot-k8s-jobs-manifests\""),
            std::string::npos);
}

}  // namespace
