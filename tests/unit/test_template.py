"""template.yaml, read by the real SAM translator: routes, functions, scope of every policy."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from local.emulator import template

WEBHOOK_ROUTES = {
    "/webhooks/time-entry-created": "time_entry_created",
    "/webhooks/time-entry-updated": "time_entry_updated",
    "/webhooks/time-entry-deleted": "time_entry_deleted",
    "/webhooks/project-created": "project_created",
    "/webhooks/project-updated": "project_updated",
    "/webhooks/project-deleted": "project_deleted",
    "/webhooks/workspace-created": "workspace_created",
    "/webhooks": "any_event",
}


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    resources: dict[str, Any] = template.transformed()["Resources"]
    return resources


def webhook_functions() -> list[template.Function]:
    return [fn for fn in template.functions() if any(r.path.startswith("/webhooks") for r in fn.routes)]


def _policies(role: dict[str, Any]) -> list[dict[str, Any]]:
    """A role's inline policies, a conditional one counted as if its condition held."""
    found = []
    for policy in role.get("Policies", []):
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        found.append(policy)
    return found


def statements(cfn: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    role = cfn[f"{function_id}Role"]["Properties"]
    return [s for policy in _policies(role) for s in policy["PolicyDocument"]["Statement"]]


def actions_of(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_every_webhook_route_has_its_own_function_with_an_existing_handler() -> None:
    functions = webhook_functions()
    routes = {r.path: fn for fn in functions for r in fn.routes}
    assert set(routes) == set(WEBHOOK_ROUTES)
    assert len({fn.logical_id for fn in functions}) == len(WEBHOOK_ROUTES)  # one function per route
    for path, attribute in WEBHOOK_ROUTES.items():
        fn = routes[path]
        assert fn.attribute == attribute
        assert [r.method for r in fn.routes] == ["POST"]
        module_path = fn.code_dir / f"{fn.module}.py"
        spec = importlib.util.spec_from_file_location(f"check_{fn.logical_id}", module_path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert callable(getattr(module, attribute))


def test_runtime_architecture_tracing_and_layer_for_every_function(cfn: dict[str, Any]) -> None:
    functions = {k: v["Properties"] for k, v in cfn.items() if v["Type"] == "AWS::Lambda::Function"}
    assert functions
    for props in functions.values():
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert len(props["Layers"]) == 1
        assert "LogGroup" in props["LoggingConfig"]


def test_webhook_routes_are_public_and_everything_else_defaults_to_iam(cfn: dict[str, Any]) -> None:
    body = cfn["Api"]["Properties"]["Body"]
    assert body["securityDefinitions"]["AWS_IAM"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    for path in WEBHOOK_ROUTES:
        assert body["paths"][path]["post"]["security"] == [{"NONE": []}]
    assert template.load()["Resources"]["Api"]["Properties"]["Auth"] == {
        "DefaultAuthorizer": "AWS_IAM",
        "InvokeRole": "NONE",
    }


def test_webhook_functions_read_the_signing_secret_and_nothing_else(cfn: dict[str, Any]) -> None:
    for fn in webhook_functions():
        found = statements(cfn, fn.logical_id)
        text = json.dumps(found)
        assert "TogglApiTokenSecret" not in text and "ExistingTogglApiTokenSecretArn" not in text
        by_action: dict[str, list[Any]] = {}
        for statement in found:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                by_action.setdefault(action, []).append(statement["Resource"])
        assert set(by_action) == {
            "secretsmanager:GetSecretValue",
            "events:PutEvents",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        }
        assert "WebhookSigningSecret" in json.dumps(by_action["secretsmanager:GetSecretValue"])
        assert "EventBus" in json.dumps(by_action["events:PutEvents"])
        for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
            assert by_action[action] == [{"Fn::GetAtt": ["IdempotencyTable", "Arn"]}]
        for statement in found:  # no wildcard action or resource
            assert not any("*" in a for a in actions_of(statement)) and "*" not in json.dumps(statement["Resource"])


def test_webhook_environment_names_the_signing_secret_not_the_token() -> None:
    for fn in webhook_functions():
        names = {**template.parameter_defaults(template.load()), "EventBus": "b", "IdempotencyTable": "t"}
        names.update(WebhookSigningSecret="arn:signing", TogglApiTokenSecret="arn:token")
        env = template.environment(fn, names)
        assert env["WEBHOOK_SECRET_ID"] == "arn:signing"
        assert "TOGGL_API_TOKEN_SECRET_ID" not in env
        assert env["EVENT_BUS_NAME"] == "b" and env["IDEMPOTENCY_TABLE_NAME"] == "t"
        assert env["TOGGL_API_URL"] == "https://api.track.toggl.com"


def test_the_dedupe_table_expires_records_and_the_bus_has_a_replay_archive(cfn: dict[str, Any]) -> None:
    table = cfn["IdempotencyTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    archive = cfn["EventArchive"]["Properties"]
    assert archive["RetentionDays"] == {"Ref": "ArchiveRetentionDays"}
    assert archive["SourceArn"] == {"Fn::GetAtt": ["EventBus", "Arn"]}


def test_the_signing_secret_is_generated_and_the_token_secret_is_optional(cfn: dict[str, Any]) -> None:
    assert "GenerateSecretString" in cfn["WebhookSigningSecret"]["Properties"]
    assert cfn["TogglApiTokenSecret"]["Condition"] == "CreateApiTokenSecret"
    assert json.loads(cfn["TogglApiTokenSecret"]["Properties"]["SecretString"]) == {"api_token": ""}


def method_setting_path(path: str) -> str:
    """API Gateway's spelling of a resource path in a method setting: ``/~1webhooks~1x``."""
    return "/" + path.replace("/", "~1")


def test_api_throttling_log_retention_and_reserved_concurrency_are_parameters(cfn: dict[str, Any]) -> None:
    stage = cfn["ApiStage"]["Properties"]
    settings = {s["ResourcePath"]: s for s in stage["MethodSettings"]}
    # The IAM routes share the default; every public webhook route is throttled on its own.
    assert settings["/*"]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert settings["/*"]["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    for path in WEBHOOK_ROUTES:
        setting = settings[method_setting_path(path)]
        assert setting["HttpMethod"] == "POST"
        assert setting["ThrottlingRateLimit"] == {"Ref": "WebhookThrottlingRateLimit"}
        assert setting["ThrottlingBurstLimit"] == {"Ref": "WebhookThrottlingBurstLimit"}
    assert set(settings) == {"/*"} | {method_setting_path(p) for p in WEBHOOK_ROUTES}
    assert cfn["WebhookLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for fn in webhook_functions():
        assert cfn[fn.logical_id]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"][0] == "HasReservedConcurrency"


def test_outputs_name_the_api_every_webhook_url_the_bus_and_the_secrets() -> None:
    outputs = template.load()["Outputs"]
    for name in ("ApiBaseUrl", "EventBusName", "EventBusArn", "WebhookSecretArn", "TogglApiTokenSecretArn"):
        assert name in outputs
    urls = [json.dumps(o["Value"]) for name, o in outputs.items() if name.endswith("WebhookUrl")]
    for path in WEBHOOK_ROUTES:
        assert sum(u.endswith(f'{path}"}}') for u in urls) == 1, path


def test_the_layer_is_built_without_docker_for_arm64_python_313() -> None:
    layer = template.load()["Resources"]["TogglLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (template.ROOT / "layers" / "toggl" / "Makefile").read_text()
    assert "build-TogglLayer:" in makefile
    assert "--platform manylinux2014_aarch64" in makefile and "--python-version 3.13" in makefile
    assert "--require-hashes" in makefile and "python3.13" in makefile
    assert 'rm -rf "$(ARTIFACTS_DIR)/python/bin"' in makefile


def test_every_layer_requirement_is_pinned_and_hash_checked() -> None:
    text = (template.ROOT / "layers" / "toggl" / "requirements.txt").read_text()
    requirements = [r for r in text.replace("\\\n", " ").splitlines() if r.strip() and not r.startswith("#")]
    assert len(requirements) >= 8
    for requirement in requirements:
        name, _, rest = requirement.partition("==")
        assert name and rest.split()[0], requirement
        assert "--hash=sha256:" in rest, f"{name} has no hash"


ACTION_ROUTES = {
    "/actions/create-client": "create_client",
    "/actions/create-user-invitation": "create_user_invitation",
    "/actions/add-project-member": "add_project_member",
    "/actions/create-task": "create_task",
    "/actions/start-time-entry": "start_time_entry",
    "/actions/stop-time-entry": "stop_time_entry",
    "/actions/create-time-entry": "create_time_entry",
    "/actions/update-time-entry": "update_time_entry",
    "/actions/delete-time-entry": "delete_time_entry",
    "/actions/create-project": "create_project",
    "/actions/create-tag": "create_tag",
}


def functions_under(prefix: str) -> list[template.Function]:
    return [fn for fn in template.functions() if any(r.path.startswith(prefix) for r in fn.routes)]


def test_every_action_route_has_its_own_function_behind_iam(cfn: dict[str, Any]) -> None:
    functions = functions_under("/actions/")
    routes = {r.path: fn for fn in functions for r in fn.routes}
    assert {path: fn.attribute for path, fn in routes.items()} == ACTION_ROUTES
    assert len({fn.logical_id for fn in functions}) == len(ACTION_ROUTES)
    body = cfn["Api"]["Properties"]["Body"]
    for path in ACTION_ROUTES:
        assert body["paths"][path]["post"]["security"] == [{"AWS_IAM": []}]
        assert all(r.iam for r in routes[path].routes)


def test_action_functions_read_the_token_and_not_the_signing_secret(cfn: dict[str, Any]) -> None:
    for fn in functions_under("/actions/"):
        found = statements(cfn, fn.logical_id)
        text = json.dumps(found)
        assert "WebhookSigningSecret" not in text
        assert "events:PutEvents" not in text
        actions = sorted(a for s in found for a in actions_of(s))
        assert actions == sorted(
            [
                "secretsmanager:GetSecretValue",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "kms:Decrypt",
            ]
        )
        secret = next(s for s in found if s["Action"] == ["secretsmanager:GetSecretValue"])
        assert "TogglApiTokenSecret" in json.dumps(secret["Resource"])
        names = template.with_conditions(
            {
                **template.parameter_defaults(template.load()),
                "EventBus": "b",
                "IdempotencyTable": "t",
                "WebhookSigningSecret": "arn:signing",
                "TogglApiTokenSecret": "arn:token",
            }
        )
        env = template.environment(fn, names)
        assert env["TOGGL_API_TOKEN_SECRET_ID"] == "arn:token" and "WEBHOOK_SECRET_ID" not in env


def test_an_existing_token_secret_is_used_when_given() -> None:
    fn = functions_under("/actions/")[0]
    names = {**template.parameter_defaults(template.load()), "EventBus": "b", "IdempotencyTable": "t"}
    names["ExistingTogglApiTokenSecretArn"] = "arn:aws:secretsmanager:us-east-1:1:secret:mine"
    env = template.environment(fn, template.with_conditions(names))
    assert env["TOGGL_API_TOKEN_SECRET_ID"] == "arn:aws:secretsmanager:us-east-1:1:secret:mine"


def test_the_composition_example_is_off_by_default_and_complete_when_on() -> None:
    resources = template.load()["Resources"]
    parts = [k for k, v in resources.items() if v.get("Condition") == "AutoAddProjectMember"]
    assert sorted(parts) == sorted(
        ["AutoAddProjectMemberRule", "AutoAddProjectMemberPermission", "DeadLetterQueuePolicy"]
    )
    assert template.parameter_defaults(template.load())["AutoAddProjectMemberUserId"] == ""
    rule = resources["AutoAddProjectMemberRule"]["Properties"]
    assert rule["EventPattern"] == {"source": ["toggl.track"], "detail-type": ["Project Created"]}
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["AddProjectMemberFunction", "Arn"]}
    assert rule["Targets"][0]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}


def test_the_query_function_serves_every_query_behind_iam_and_reads_only_the_token(cfn: dict[str, Any]) -> None:
    (fn,) = functions_under("/queries/")
    assert [(r.method, r.path, r.iam) for r in fn.routes] == [("GET", "/queries/{name}", True)]
    body = cfn["Api"]["Properties"]["Body"]
    assert body["paths"]["/queries/{name}"]["get"]["security"] == [{"AWS_IAM": []}]
    found = statements(cfn, fn.logical_id)
    assert [s["Action"] for s in found] == [["secretsmanager:GetSecretValue"], ["kms:Decrypt"]]
    assert "TogglApiTokenSecret" in json.dumps(found) and "WebhookSigningSecret" not in json.dumps(found)


def test_every_non_webhook_route_requires_iam() -> None:
    for fn in template.functions():
        for route in fn.routes:
            assert route.iam == (not route.path.startswith("/webhooks")), (fn.logical_id, route.path)


def secret_reads(cfn: dict[str, Any], function_id: str) -> set[str]:
    reads = set()
    for statement in statements(cfn, function_id):
        if statement["Action"] == ["secretsmanager:GetSecretValue"]:
            text = json.dumps(statement["Resource"])
            reads |= {name for name in ("WebhookSigningSecret", "TogglApiTokenSecret") if name in text}
    return reads


def test_who_reads_which_secret(cfn: dict[str, Any]) -> None:
    readers = {fn.logical_id: secret_reads(cfn, fn.logical_id) for fn in template.functions()}
    both = {name for name, reads in readers.items() if reads == {"WebhookSigningSecret", "TogglApiTokenSecret"}}
    # Only the functions that create subscriptions need both: a subscription carries the secret.
    assert both == {"SubscriptionSetupFunction", "SubscriptionHealthFunction"}
    assert readers["WorkspacePollerFunction"] == {"TogglApiTokenSecret"}
    assert all(not reads or name in both or len(reads) == 1 for name, reads in readers.items())


def test_setup_runs_after_the_api_stage_and_keeps_running_on_schedules(cfn: dict[str, Any]) -> None:
    setup = template.load()["Resources"]["SubscriptionSetup"]["Properties"]
    assert setup["Stage"] == {"Ref": "Api.Stage"}
    assert setup["ServiceToken"] == {"Fn::GetAtt": ["SubscriptionSetupFunction", "Arn"]}
    schedules = {k: v["Properties"] for k, v in cfn.items() if v["Type"] == "AWS::Scheduler::Schedule"}
    expressions = sorted(json.dumps(p["ScheduleExpression"]) for p in schedules.values())
    assert expressions == sorted(
        [
            json.dumps({"Fn::Sub": "rate(${HealthCheckMinutes} minutes)"}),
            json.dumps({"Fn::Sub": "rate(${WorkspacePollMinutes} minutes)"}),
            json.dumps({"Fn::Sub": "rate(${CatchUpMinutes} minutes)"}),
        ]
    )
    defaults = template.parameter_defaults(template.load())
    assert (defaults["HealthCheckMinutes"], defaults["WorkspacePollMinutes"], defaults["CatchUpMinutes"]) == (
        "15",
        "30",
        "10",
    )
    assert template.function("CatchUpFunction").handler == "catch_up_handler.catch_up_changes"


def test_every_checkov_skip_says_why() -> None:
    skips = [
        (logical_id, skip)
        for logical_id, resource in template.load()["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for logical_id, skip in skips:
        assert skip["id"].startswith("CKV_"), logical_id
        assert len(str(skip.get("comment", ""))) >= 40, (logical_id, skip)


def test_every_check_the_checkov_configuration_skips_says_why_and_is_not_skipped_again() -> None:
    text = (template.ROOT / ".checkov.yaml").read_text()
    config: dict[str, Any] = cfn_yaml.loads(text)
    assert config["file"] == ["template.yaml"] and config["skip-download"] is True
    lines = text.splitlines()
    for check in config["skip-check"]:
        at = lines.index(f"  - {check}")
        reason: list[str] = []
        while lines[at - 1 - len(reason)].strip().startswith("#"):
            reason.append(lines[at - 1 - len(reason)])
        assert len(" ".join(reason)) >= 80 and check in " ".join(reason), check
    # A check skipped for every resource is not skipped again beside one.
    again = [
        (logical_id, skip["id"])
        for logical_id, resource in template.load()["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        if skip["id"] in config["skip-check"]
    ]
    assert again == []


def test_no_wildcard_actions_and_no_wildcard_resources_in_our_policies(cfn: dict[str, Any]) -> None:
    roles = [k for k, v in cfn.items() if v["Type"] == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        for policy in _policies(cfn[role]["Properties"]):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert all("*" not in action for action in actions_of(statement)), (role, statement)
                assert statement.get("Resource") != "*", (role, statement)
