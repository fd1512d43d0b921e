"""AWS SQS/SNS provider on boto3 (imported here only, lazily).

Reads: one paged ListQueues (filtered by the scope's name prefix), ListTopics and
ListSubscriptions, then per resource its attributes and tags in bounded parallel.
Ownership: the name prefix and every scope tag. Locking: SQS/SNS have no lock primitive
(a "lock queue" created with a tag is not atomic), so the base class's local file lock is
used — it serialises applies from one machine only; run applies from one CI job per target.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from brokerform.errors import ProviderError
from brokerform.plan.model import Action, Change, Reason
from brokerform.providers.aws.compile import (
    ACCOUNT_PLACEHOLDER,
    arn,
    base_name,
    canonical_policy,
    subscription_name,
)
from brokerform.providers.base import Capabilities, FieldPolicy, Provider
from brokerform.resources import Address, Resource, flatten
from brokerform.secrets import SecretResolutionError, replace_url_passwords, resolve_embedded

READ_PARALLELISM = 16
READBACK_TIMEOUT_S = 10.0
QUEUE_DELETED_RECENTLY_RETRY_S = 20.0  # AWS forbids re-using a deleted queue name for 60 s
THROTTLING = {"Throttling", "ThrottlingException", "RequestThrottled", "TooManyRequestsException",
              "ServiceUnavailable", "InternalError", "InternalFailure"}

QUEUE_DEFAULTS = {
    "visibility_timeout": 30,
    "retention": 345_600,
    "delay": 0,
    "receive_wait_time": 0,
    "max_message_size": 1_048_576,
    "content_based_deduplication": False,
    "deduplication_scope": "queue",
    "fifo_throughput_limit": "perQueue",
}
QUEUE_SECONDS_ATTRIBUTES = {
    "visibility_timeout": "VisibilityTimeout",
    "retention": "MessageRetentionPeriod",
    "delay": "DelaySeconds",
    "receive_wait_time": "ReceiveMessageWaitTimeSeconds",
    "max_message_size": "MaximumMessageSize",
}
QUEUE_FIFO_ATTRIBUTES = {
    "content_based_deduplication": "ContentBasedDeduplication",
    "deduplication_scope": "DeduplicationScope",
    "fifo_throughput_limit": "FifoThroughputLimit",
}
# Attributes some endpoints accept but never report (moto: RedriveAllowPolicy).
MAYBE_UNREPORTED = {"RedriveAllowPolicy"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_or_none(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class AwsProvider(Provider):
    type = "aws"

    def __init__(self, name: str, target: Any, base_dir=None):
        super().__init__(name, target, base_dir)
        self._session = None
        self._clients: dict[str, Any] = {}
        self._client_lock = threading.Lock()
        self._account: str | None = target.account_id or None
        self._owned_queues: set[str] = set()
        self._owned_topics: set[str] = set()
        self._unowned: dict[tuple[str, str], dict[str, str]] = {}  # (kind, name) in the prefix, lacking scope tags
        self._queue_urls: dict[str, str] = {}
        self._redrive_allow_unreported = False

    # -- connection -------------------------------------------------------------
    def client(self, service: str):
        with self._client_lock:
            if service not in self._clients:
                try:
                    import boto3
                    from botocore.config import Config
                except ModuleNotFoundError as exc:
                    raise ProviderError(f"the aws provider needs {exc.name!r}; "
                                        "install it with: pip install 'brokerform[aws]'") from None
                if self._session is None:
                    self._session = boto3.session.Session(profile_name=self.target.profile,
                                                          region_name=self.target.region)
                config = Config(retries={"max_attempts": 3, "mode": "standard"},
                                max_pool_connections=READ_PARALLELISM * 2, connect_timeout=5, read_timeout=30)
                self._clients[service] = self._session.client(service, endpoint_url=self.target.endpoint_url or None,
                                                              config=config)
            return self._clients[service]

    def account_id(self) -> str:
        """target.account_id, else the caller's account from STS (one call, cached)."""
        if self._account is None:
            identity = self._call("sts", "get_caller_identity", "read the account id")
            self._account = identity["Account"]
        return self._account

    def _call(self, service: str, operation: str, what: str, **kwargs: Any) -> Any:
        """Call boto3 and turn its exceptions into ProviderErrors that say what failed."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
        from botocore.parsers import ResponseParserError

        try:
            return getattr(self.client(service), operation)(**kwargs)
        except (ResponseParserError, KeyError) as exc:  # KeyError: botocore read XML that is not AWS's
            raise ProviderError(self._not_aws(what, str(exc))) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if error.get("Message", "").lstrip().startswith("<"):  # an HTML error page: not an AWS API
                raise ProviderError(self._not_aws(what, f"HTTP {code}")) from None
            message = f"{self.name}: cannot {what}: {code}: {error.get('Message', '')}".rstrip(": ")
            if "QueueDeletedRecently" in code:
                raise ProviderError(message + " (AWS keeps a deleted queue's name for 60 s; retrying)",
                                    transient=True, retry_after=QUEUE_DELETED_RECENTLY_RETRY_S) from None
            raise ProviderError(message, transient=code in THROTTLING) from None
        except NoCredentialsError:
            raise ProviderError(f"{self.name}: no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                                "AWS_PROFILE or the target's profile, or run with a role") from None
        except BotoCoreError as exc:
            raise ProviderError(f"{self.name}: cannot {what}: {exc}", transient=True) from None

    def _not_aws(self, what: str, detail: str) -> str:
        where = self.target.endpoint_url or f"the AWS endpoint of {self.target.region}"
        first_line = detail.strip().splitlines()[0][:100] if detail.strip() else "no details"
        return (f"{self.name}: cannot {what}: {where} did not answer like the AWS API ({first_line}); "
                "is endpoint_url an SQS/SNS endpoint?")

    def capabilities(self) -> Capabilities:
        return Capabilities(broker_lock="local file lock (SQS/SNS have no lock primitive)", max_parallelism=16,
                            notes=["AWS keeps a deleted queue's name for 60 s; apply retries such creates"])

    # -- names and ARNs ---------------------------------------------------------
    def arn(self, service: str, name: str) -> str:
        return arn(service, self.target.region, name, self.account_id())

    def resolve(self, value: Any) -> Any:
        """Fill ${aws:account_id} into documents and ARNs before they are sent."""
        if isinstance(value, str):
            return value.replace(ACCOUNT_PLACEHOLDER, self.account_id())
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def queue_arn(self, name_or_arn: str) -> str:
        return self.resolve(name_or_arn) if name_or_arn.startswith("arn:") else self.arn("sqs", name_or_arn)

    def topic_arn(self, name_or_arn: str) -> str:
        return self.resolve(name_or_arn) if name_or_arn.startswith("arn:") else self.arn("sns", name_or_arn)

    def _local(self, resource_arn: str, service: str, owned: set[str]) -> str:
        """An ARN of an owned queue/topic in this account and region reads back as its name."""
        name = resource_arn.rsplit(":", 1)[-1]
        if resource_arn == self.arn(service, name) and name in owned:
            return name
        return resource_arn

    def _unplaceholder(self, value: Any) -> Any:
        """The comparison form: this account's id is ${aws:account_id} on both sides."""
        account = self._account
        if not account:
            return value
        if isinstance(value, str):
            return ACCOUNT_PLACEHOLDER if value == account else value.replace(f":{account}:", f":{ACCOUNT_PLACEHOLDER}:")
        if isinstance(value, list):
            return [self._unplaceholder(v) for v in value]
        if isinstance(value, dict):
            return {k: self._unplaceholder(v) for k, v in value.items()}
        return value

    # -- field policies -----------------------------------------------------------
    def field_policy(self, kind: str) -> FieldPolicy:
        normalise = lambda path, value: self._unplaceholder(value)  # noqa: E731
        if kind == "queue":
            ignored = ("redrive_allow.*",) if self._redrive_allow_unreported else ()
            return FieldPolicy(
                immutable=("name", "fifo"),
                ignored=ignored,
                defaults=dict(QUEUE_DEFAULTS),
                managed=("name", "fifo", *QUEUE_DEFAULTS, "redrive.*", "redrive_allow.*", "tags.*"),
                recreate_with_dependencies=False,
                holds_data=True,
                normalise=normalise,
            )
        if kind == "queue_policy":
            return FieldPolicy(immutable=("queue",), managed=("queue", "policy.*"), normalise=normalise)
        if kind == "topic":
            return FieldPolicy(immutable=("name", "fifo"), defaults={"content_based_deduplication": False},
                               managed=("name", "fifo", "content_based_deduplication", "kms_key", "tags.*"),
                               recreate_with_dependencies=False, normalise=normalise)
        if kind == "subscription":
            return FieldPolicy(immutable=("topic", "protocol", "endpoint"),
                               defaults={"raw_delivery": False, "filter_policy_scope": "MessageAttributes"},
                               managed=("topic", "protocol", "endpoint", "filter_policy.*", "filter_policy_scope",
                                        "raw_delivery", "dead_letter_queue"),
                               normalise=normalise)
        return FieldPolicy()

    # -- read ---------------------------------------------------------------------
    def read(self) -> list[Resource]:
        scope = self.target.scope
        self.account_id()
        with ThreadPoolExecutor(max_workers=READ_PARALLELISM) as pool:
            queue_urls = self._list_queue_urls(scope.name_prefix)
            topic_arns = [a for a in self._list_topic_arns()
                          if not scope.name_prefix or a.rsplit(":", 1)[-1].startswith(scope.name_prefix)]
            queue_futures = [pool.submit(self._read_queue_raw, url) for url in queue_urls]
            topic_futures = [pool.submit(self._read_topic_raw, a) for a in topic_arns]
            subscriptions_future = pool.submit(self._list_subscriptions)
            queue_raws = [q for q in (f.result() for f in queue_futures) if q]
            topic_raws = [t for t in (f.result() for f in topic_futures) if t]
            queues = [q for q in queue_raws if self._owned(q["tags"])]
            topics = [t for t in topic_raws if self._owned(t["tags"])]
            self._unowned = {("queue", q["name"]): q["tags"] for q in queue_raws if not self._owned(q["tags"])}
            self._unowned.update({("topic", t["name"]): t["tags"] for t in topic_raws if not self._owned(t["tags"])})
            self._owned_queues = {q["name"] for q in queues}
            self._owned_topics = {t["name"] for t in topics}
            owned_topic_arns = {self.arn("sns", n) for n in self._owned_topics}
            owned_queue_arns = {self.arn("sqs", n) for n in self._owned_queues}
            subscriptions = [s for s in subscriptions_future.result()
                             if s["TopicArn"] in owned_topic_arns
                             or (s["Protocol"] == "sqs" and s["Endpoint"] in owned_queue_arns)]
            subscription_attributes = list(pool.map(self._read_subscription_raw, subscriptions))
        self._redrive_allow_unreported = bool(self.target.endpoint_url) and not any(
            "RedriveAllowPolicy" in q["attributes"] for q in queues)
        resources: list[Resource] = []
        names_taken: set[Address] = set()
        for queue in sorted(queues, key=lambda q: q["name"]):
            for resource in self._queue_resources(queue):
                if resource.address in names_taken:  # both `x` and `x.fifo` exist: keep the full name
                    resource.address = Address(self.name, resource.address.kind, "", resource.properties.get(
                        "name", queue["name"]))
                names_taken.add(resource.address)
                resources.append(resource)
        for topic in sorted(topics, key=lambda t: t["name"]):
            resources.append(self._topic_resource(topic))
        for attributes in subscription_attributes:
            if attributes is not None:
                resources.append(self._subscription_resource(attributes))
        return resources

    def plan_checks(self, changes: list[Change], desired: dict[Address, Resource], live: dict[Address, Resource]) -> None:
        """A create of a name that exists without the scope tags would fail (QueueAlreadyExists) or,
        when the attributes match, silently adopt someone else's queue: block it and say how to adopt."""
        unowned = self._unowned
        if not unowned:
            return
        for change in changes:
            if change.action is not Action.CREATE or change.desired is None:
                continue
            name = change.desired.properties.get("name")
            tags = unowned.get((change.address.kind, name))
            if tags is not None:
                change.action, change.reason = Action.BLOCKED, Reason.IMPOSSIBLE
                change.blocked_reason = self._not_owned_reason(change.address.kind, name, tags)

    def _not_owned_reason(self, kind: str, name: str, tags: dict[str, str]) -> str:
        wanted = self.target.scope.tags
        missing = ", ".join(f"{k}={v}" for k, v in sorted(wanted.items()) if tags.get(k) != v)
        if kind == "queue":
            how = f"aws sqs tag-queue --queue-url <url of {name}> --tags " + ",".join(
                f"{k}={v}" for k, v in sorted(wanted.items()))
        else:
            how = f"aws sns tag-resource --resource-arn {self.arn('sns', name)} --tags " + " ".join(
                f"Key={k},Value={v}" for k, v in sorted(wanted.items()))
        return (f"{kind} {name!r} already exists but is not owned by this target (missing scope tags: {missing}); "
                f"to adopt it, add the tags ({how}) and plan again, or choose another name")

    def _owned(self, tags: dict[str, str]) -> bool:
        return all(tags.get(k) == v for k, v in self.target.scope.tags.items())

    def _paged(self, service: str, operation: str, key: str, what: str, **kwargs: Any) -> list[Any]:
        items: list[Any] = []
        token = None
        while True:
            page = self._call(service, operation, what, **kwargs, **({"NextToken": token} if token else {}))
            items.extend(page.get(key, []))
            token = page.get("NextToken")
            if not token:
                return items

    def _list_queue_urls(self, prefix: str | None) -> list[str]:
        kwargs: dict[str, Any] = {"MaxResults": 1000}
        if prefix:
            kwargs["QueueNamePrefix"] = prefix
        urls = self._paged("sqs", "list_queues", "QueueUrls", "list queues", **kwargs)
        for url in urls:
            self._queue_urls[url.rsplit("/", 1)[-1]] = url
        return urls

    def _list_topic_arns(self) -> list[str]:
        return [t["TopicArn"] for t in self._paged("sns", "list_topics", "Topics", "list topics")]

    def _list_subscriptions(self) -> list[dict[str, Any]]:
        subs = self._paged("sns", "list_subscriptions", "Subscriptions", "list subscriptions")
        return [s for s in subs if s.get("SubscriptionArn", "").startswith("arn:")]  # skip PendingConfirmation

    def _read_queue_raw(self, url: str) -> dict[str, Any] | None:
        name = url.rsplit("/", 1)[-1]
        try:
            attributes = self._call("sqs", "get_queue_attributes", f"read queue {name}", QueueUrl=url,
                                    AttributeNames=["All"]).get("Attributes", {})
            tags = self._call("sqs", "list_queue_tags", f"read the tags of queue {name}", QueueUrl=url).get("Tags", {})
        except ProviderError as exc:
            if "NonExistentQueue" in str(exc) or "QueueDoesNotExist" in str(exc):
                return None  # deleted between list and read
            raise
        return {"name": name, "url": url, "attributes": attributes, "tags": tags or {}}

    def _read_topic_raw(self, topic_arn: str) -> dict[str, Any] | None:
        name = topic_arn.rsplit(":", 1)[-1]
        try:
            attributes = self._call("sns", "get_topic_attributes", f"read topic {name}",
                                    TopicArn=topic_arn).get("Attributes", {})
            tags = self._call("sns", "list_tags_for_resource", f"read the tags of topic {name}",
                              ResourceArn=topic_arn).get("Tags", [])
        except ProviderError as exc:
            if "NotFound" in str(exc):
                return None
            raise
        return {"name": name, "arn": topic_arn, "attributes": attributes, "tags": {t["Key"]: t["Value"] for t in tags}}

    def _read_subscription_raw(self, summary: dict[str, Any]) -> dict[str, Any] | None:
        try:
            attributes = self._call("sns", "get_subscription_attributes", "read a subscription",
                                    SubscriptionArn=summary["SubscriptionArn"]).get("Attributes", {})
        except ProviderError as exc:
            if "NotFound" in str(exc):
                return None
            raise
        return {**summary, **attributes}

    def _queue_resources(self, queue: dict[str, Any]) -> list[Resource]:
        name, attributes = queue["name"], queue["attributes"]
        props = queue_properties(name, attributes, queue["tags"],
                                 lambda a: self._local(a, "sqs", self._owned_queues))
        messages = sum(int(attributes.get(k, 0) or 0) for k in (
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"))
        meta = {"url": queue["url"], "arn": attributes.get("QueueArn"), "messages": messages}
        out = [Resource(Address(self.name, "queue", "", base_name(name)), props, meta=meta)]
        if attributes.get("Policy"):
            policy = canonical_policy(json.loads(attributes["Policy"]))
            out.append(Resource(Address(self.name, "queue_policy", "", base_name(name)),
                                {"queue": name, "policy": policy},
                                [out[0].address], meta={"url": queue["url"]}))
        return out

    def _topic_resource(self, topic: dict[str, Any]) -> Resource:
        attributes = topic["attributes"]
        fifo = attributes.get("FifoTopic") == "true"
        props: dict[str, Any] = {"name": topic["name"], "fifo": fifo}
        if fifo:
            props["content_based_deduplication"] = attributes.get("ContentBasedDeduplication") == "true"
        if attributes.get("KmsMasterKeyId"):
            props["kms_key"] = attributes["KmsMasterKeyId"]
        if attributes.get("Policy"):
            props["policy"] = canonical_policy(json.loads(attributes["Policy"]))
        props["tags"] = dict(topic["tags"])
        return Resource(Address(self.name, "topic", "", base_name(topic["name"])), props, meta={"arn": topic["arn"]})

    def _subscription_resource(self, attributes: dict[str, Any]) -> Resource:
        topic = self._local(attributes["TopicArn"], "sns", self._owned_topics)
        protocol = attributes["Protocol"]
        endpoint = attributes["Endpoint"]
        if protocol == "sqs":
            endpoint = self._local(endpoint, "sqs", self._owned_queues)
        props: dict[str, Any] = {"topic": topic, "protocol": protocol, "endpoint": endpoint}
        filter_policy = _json_or_none(attributes.get("FilterPolicy"))
        if filter_policy:
            props["filter_policy"] = filter_policy
            props["filter_policy_scope"] = attributes.get("FilterPolicyScope") or "MessageAttributes"
        props["raw_delivery"] = attributes.get("RawMessageDelivery") == "true"
        redrive = _json_or_none(attributes.get("RedrivePolicy"))
        if isinstance(redrive, dict) and redrive.get("deadLetterTargetArn"):
            props["dead_letter_queue"] = self._local(redrive["deadLetterTargetArn"], "sqs", self._owned_queues)
        address = Address(self.name, "subscription", "", subscription_name(topic, protocol, endpoint))
        declared = self._declared_endpoints.get(address.name)
        resolved = self._resolved_or_none(declared) if declared is not None else None
        if resolved is not None and endpoint in (resolved, _password_masked(resolved)):
            # equal to the manifest's reference (SNS itself shows the password as ****): never in the plan
            props["endpoint"] = declared
        return Resource(address, props, meta={"arn": attributes["SubscriptionArn"]})

    @functools.cached_property
    def _declared_endpoints(self) -> dict[str, str]:
        """Declared endpoints that embed `${env:...}`/`${file:...}` references, by subscription name."""
        return {subscription_name(sub.topic, sub.protocol, sub.endpoint): sub.endpoint
                for sub in self.target.subscriptions.values() if "${" in sub.endpoint}

    def _resolved_or_none(self, endpoint: str) -> str | None:
        try:
            return resolve_embedded(endpoint, self.base_dir)
        except SecretResolutionError:
            return None  # the plan reports the unresolvable reference itself

    def load_data_counts(self, resources: list[Resource]) -> None:
        """read() already fetched ApproximateNumberOfMessages(+NotVisible+Delayed) for every queue."""

    # -- apply --------------------------------------------------------------------
    def apply(self, change: Change) -> None:
        kind = change.address.kind
        handler: Callable[[Change], None] = {
            ("queue", Action.CREATE): self._create_queue,
            ("queue", Action.UPDATE): self._update_queue,
            ("queue", Action.DELETE): self._delete_queue,
            ("queue_policy", Action.CREATE): self._put_queue_policy,
            ("queue_policy", Action.UPDATE): self._put_queue_policy,
            ("queue_policy", Action.DELETE): self._delete_queue_policy,
            ("topic", Action.CREATE): self._create_topic,
            ("topic", Action.UPDATE): self._update_topic,
            ("topic", Action.DELETE): self._delete_topic,
            ("subscription", Action.CREATE): self._create_subscription,
            ("subscription", Action.UPDATE): self._update_subscription,
            ("subscription", Action.DELETE): self._delete_subscription,
        }.get((kind, change.action))
        if handler is None:
            raise ProviderError(f"{self.name}: cannot {change.action.value} a {kind}")
        handler(change)

    # queues
    def queue_url(self, name: str) -> str | None:
        if name not in self._queue_urls:
            try:
                self._queue_urls[name] = self._call("sqs", "get_queue_url", f"find queue {name}",
                                                    QueueName=name)["QueueUrl"]
            except ProviderError as exc:
                if "NonExistentQueue" in str(exc) or "QueueDoesNotExist" in str(exc):
                    return None
                raise
        return self._queue_urls[name]

    def queue_attributes(self, props: dict[str, Any], *, resets: bool) -> dict[str, str]:
        """SQS attributes for desired properties; with resets, undeclared ones go back to defaults."""
        attributes: dict[str, str] = {}
        for prop, attribute in QUEUE_SECONDS_ATTRIBUTES.items():
            if prop in props or resets:
                attributes[attribute] = _text(props.get(prop, QUEUE_DEFAULTS[prop]))
        if props.get("fifo"):
            for prop, attribute in QUEUE_FIFO_ATTRIBUTES.items():
                if prop in props or resets:
                    attributes[attribute] = _text(props.get(prop, QUEUE_DEFAULTS[prop]))
        if "redrive" in props:
            redrive = props["redrive"]
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": self.queue_arn(redrive["dead_letter_queue"]),
                                                      "maxReceiveCount": redrive["max_receive_count"]})
        elif resets:
            attributes["RedrivePolicy"] = ""
        if "redrive_allow" in props:
            allow = props["redrive_allow"]
            document: dict[str, Any] = {"redrivePermission": allow["permission"]}
            if allow.get("source_queues"):
                document["sourceQueueArns"] = [self.queue_arn(q) for q in allow["source_queues"]]
            attributes["RedriveAllowPolicy"] = json.dumps(document)
        elif resets:
            attributes["RedriveAllowPolicy"] = ""
        sse = props.get("sse")
        if sse is not None:
            if "kms_key" in sse:
                attributes["KmsMasterKeyId"] = sse["kms_key"]
                if "data_key_reuse" in sse:
                    attributes["KmsDataKeyReusePeriodSeconds"] = _text(sse["data_key_reuse"])
            else:
                attributes["SqsManagedSseEnabled"] = _text(sse.get("managed", True))
                if resets:
                    attributes["KmsMasterKeyId"] = ""
        return attributes

    def _create_queue(self, change: Change) -> None:
        props = change.desired.properties
        name = props["name"]
        attributes = self.queue_attributes(props, resets=False)
        if props.get("fifo"):
            attributes["FifoQueue"] = "true"
        response = self._call("sqs", "create_queue", f"create queue {name}", QueueName=name,
                              Attributes=attributes, tags=props.get("tags") or {})
        self._queue_urls[name] = response["QueueUrl"]
        self._await_queue(name, attributes)

    def _update_queue(self, change: Change) -> None:
        props = change.desired.properties
        name = props["name"]
        url = self._require_queue_url(name)
        attributes = self.queue_attributes(props, resets=True)
        live = change.live.properties if change.live else {}
        if not live.get("redrive") and attributes.get("RedrivePolicy") == "":
            attributes.pop("RedrivePolicy")
        if not live.get("redrive_allow") and attributes.get("RedriveAllowPolicy") == "":
            attributes.pop("RedriveAllowPolicy")
        self._call("sqs", "set_queue_attributes", f"update queue {name}", QueueUrl=url, Attributes=attributes)
        self._sync_tags(live.get("tags") or {}, props.get("tags") or {},
                        tag=lambda t: self._call("sqs", "tag_queue", f"tag queue {name}", QueueUrl=url, Tags=t),
                        untag=lambda k: self._call("sqs", "untag_queue", f"untag queue {name}", QueueUrl=url,
                                                   TagKeys=k))
        self._await_queue(name, attributes)

    def _delete_queue(self, change: Change) -> None:
        name = change.live.properties["name"]
        url = self.queue_url(name)
        if url is None:
            return
        try:
            self._call("sqs", "delete_queue", f"delete queue {name}", QueueUrl=url)
        except ProviderError as exc:
            if "NonExistentQueue" not in str(exc) and "QueueDoesNotExist" not in str(exc):
                raise
        self._queue_urls.pop(name, None)

    def _require_queue_url(self, name: str) -> str:
        url = self.queue_url(name)
        if url is None:
            raise ProviderError(f"{self.name}: queue {name} does not exist (any more); run plan again")
        return url

    def _await_queue(self, name: str, expected: dict[str, str]) -> None:
        url = self._require_queue_url(name)
        self._await(lambda: self._call("sqs", "get_queue_attributes", f"read queue {name}", QueueUrl=url,
                                       AttributeNames=["All"]).get("Attributes", {}), expected)

    def _await(self, read: Callable[[], dict[str, str]], expected: dict[str, str]) -> None:
        """Poll until the attributes read back as written (bounded), rather than sleeping blindly.

        Attributes an endpoint never reports (moto: RedriveAllowPolicy) are not waited for;
        after the deadline apply goes on: the next plan shows anything that did not stick.
        """
        deadline = time.monotonic() + READBACK_TIMEOUT_S
        delay = 0.05
        while True:
            actual = read()
            pending = [k for k, v in expected.items() if not _same_attribute(actual.get(k), v)
                       and not (k in MAYBE_UNREPORTED and k not in actual)]
            if not pending or time.monotonic() >= deadline:
                return
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    # queue policies
    def _put_queue_policy(self, change: Change) -> None:
        name = change.desired.properties["queue"]
        policy = json.dumps(self.resolve(change.desired.properties["policy"]))
        url = self._require_queue_url(name)
        self._call("sqs", "set_queue_attributes", f"set the policy of queue {name}", QueueUrl=url,
                   Attributes={"Policy": policy})
        self._await_queue(name, {"Policy": policy})

    def _delete_queue_policy(self, change: Change) -> None:
        name = change.live.properties["queue"]
        url = self.queue_url(name)
        if url is None:
            return  # the queue went first: nothing left to remove
        try:
            self._call("sqs", "set_queue_attributes", f"remove the policy of queue {name}", QueueUrl=url,
                       Attributes={"Policy": ""})
        except ProviderError as exc:
            if "NonExistentQueue" not in str(exc) and "QueueDoesNotExist" not in str(exc):
                raise

    # topics
    def _create_topic(self, change: Change) -> None:
        props = change.desired.properties
        name = props["name"]
        attributes = self.topic_attributes(props)
        if props.get("fifo"):
            attributes["FifoTopic"] = "true"
        tags = [{"Key": k, "Value": v} for k, v in sorted((props.get("tags") or {}).items())]
        kwargs: dict[str, Any] = {"Name": name, "Attributes": attributes}
        if tags:
            kwargs["Tags"] = tags
        topic_arn = self._call("sns", "create_topic", f"create topic {name}", **kwargs)["TopicArn"]
        self._await(lambda: self._call("sns", "get_topic_attributes", f"read topic {name}",
                                       TopicArn=topic_arn)["Attributes"], attributes)

    def topic_attributes(self, props: dict[str, Any]) -> dict[str, str]:
        attributes: dict[str, str] = {}
        if props.get("fifo") and "content_based_deduplication" in props:
            attributes["ContentBasedDeduplication"] = _text(props["content_based_deduplication"])
        if "kms_key" in props:
            attributes["KmsMasterKeyId"] = props["kms_key"]
        if "policy" in props:
            attributes["Policy"] = json.dumps(self.resolve(props["policy"]))
        return attributes

    def _update_topic(self, change: Change) -> None:
        props = change.desired.properties
        name = props["name"]
        topic_arn = self.topic_arn(name)
        attributes = self.topic_attributes(props)
        live = change.live.properties if change.live else {}
        if "kms_key" not in props and live.get("kms_key"):
            attributes["KmsMasterKeyId"] = ""
        if props.get("fifo") and "content_based_deduplication" not in props:
            attributes["ContentBasedDeduplication"] = "false"
        for attribute, value in attributes.items():
            self._call("sns", "set_topic_attributes", f"update topic {name}", TopicArn=topic_arn,
                       AttributeName=attribute, AttributeValue=value)
        self._sync_tags(live.get("tags") or {}, props.get("tags") or {},
                        tag=lambda t: self._call("sns", "tag_resource", f"tag topic {name}", ResourceArn=topic_arn,
                                                 Tags=[{"Key": k, "Value": v} for k, v in t.items()]),
                        untag=lambda k: self._call("sns", "untag_resource", f"untag topic {name}",
                                                   ResourceArn=topic_arn, TagKeys=k))
        self._await(lambda: self._call("sns", "get_topic_attributes", f"read topic {name}",
                                       TopicArn=topic_arn)["Attributes"], attributes)

    def _delete_topic(self, change: Change) -> None:
        name = change.live.properties["name"]
        self._call("sns", "delete_topic", f"delete topic {name}", TopicArn=self.topic_arn(name))  # idempotent in SNS

    # subscriptions
    def subscription_attributes(self, props: dict[str, Any], *, resets: bool) -> dict[str, str]:
        attributes: dict[str, str] = {}
        if "filter_policy" in props:
            attributes["FilterPolicy"] = json.dumps(props["filter_policy"])
            attributes["FilterPolicyScope"] = props.get("filter_policy_scope", "MessageAttributes")
        elif resets:
            attributes["FilterPolicy"] = "{}"
        if "raw_delivery" in props or resets:
            attributes["RawMessageDelivery"] = _text(props.get("raw_delivery", False))
        if "dead_letter_queue" in props:
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": self.queue_arn(props["dead_letter_queue"])})
        elif resets:
            attributes["RedrivePolicy"] = ""
        return attributes

    def _endpoint(self, props: dict[str, Any]) -> str:
        endpoint = props["endpoint"]
        if props["protocol"] == "sqs":
            return self.queue_arn(endpoint)
        try:  # a URL password declared as ${env:...} is sent resolved, and redacted from output from now on
            return self.resolve(resolve_embedded(endpoint, self.base_dir))
        except SecretResolutionError as exc:
            raise ProviderError(f"subscription endpoint: {exc}") from None

    def _create_subscription(self, change: Change) -> None:
        props = change.desired.properties
        attributes = self.subscription_attributes(props, resets=False)
        response = self._call("sns", "subscribe", f"subscribe {change.address.name}",
                              TopicArn=self.topic_arn(props["topic"]), Protocol=props["protocol"],
                              Endpoint=self._endpoint(props), Attributes=attributes, ReturnSubscriptionArn=True)
        subscription_arn = response["SubscriptionArn"]
        if subscription_arn.startswith("arn:"):
            self._await(lambda: self._call("sns", "get_subscription_attributes", "read a subscription",
                                           SubscriptionArn=subscription_arn)["Attributes"], attributes)

    def _find_subscription_arn(self, change: Change) -> str | None:
        live = change.live
        if live is not None and live.meta.get("arn"):
            return live.meta["arn"]
        props = (live or change.desired).properties
        topic_arn, endpoint = self.topic_arn(props["topic"]), self._endpoint(props)
        subs = self._paged("sns", "list_subscriptions_by_topic", "Subscriptions", "list subscriptions",
                           TopicArn=topic_arn)
        for sub in subs:
            if sub["Protocol"] == props["protocol"] and sub["Endpoint"] == endpoint and sub["SubscriptionArn"].startswith("arn:"):
                return sub["SubscriptionArn"]
        return None

    def _update_subscription(self, change: Change) -> None:
        subscription_arn = self._find_subscription_arn(change)
        if subscription_arn is None:
            raise ProviderError(f"{self.name}: subscription {change.address.name} does not exist (any more); "
                                "run plan again")
        attributes = self.subscription_attributes(change.desired.properties, resets=True)
        live = change.live.properties if change.live else {}
        if "dead_letter_queue" not in live and attributes.get("RedrivePolicy") == "":
            attributes.pop("RedrivePolicy")
        if "filter_policy" not in live and attributes.get("FilterPolicy") == "{}":
            attributes.pop("FilterPolicy")
        for attribute in ("FilterPolicyScope", "FilterPolicy"):  # scope first: a body policy needs it
            if attribute in attributes:
                self._set_subscription_attribute(subscription_arn, attribute, attributes.pop(attribute), change)
        for attribute, value in attributes.items():
            self._set_subscription_attribute(subscription_arn, attribute, value, change)

    def _set_subscription_attribute(self, subscription_arn: str, attribute: str, value: str, change: Change) -> None:
        self._call("sns", "set_subscription_attributes", f"update subscription {change.address.name}",
                   SubscriptionArn=subscription_arn, AttributeName=attribute, AttributeValue=value)

    def _delete_subscription(self, change: Change) -> None:
        subscription_arn = self._find_subscription_arn(change)
        if subscription_arn is None:
            return
        try:
            self._call("sns", "unsubscribe", f"unsubscribe {change.address.name}", SubscriptionArn=subscription_arn)
        except ProviderError as exc:
            if "NotFound" not in str(exc):
                raise

    # tags
    @staticmethod
    def _sync_tags(live: dict[str, str], desired: dict[str, str], *, tag: Callable, untag: Callable) -> None:
        removed = sorted(set(live) - set(desired))
        changed = {k: v for k, v in desired.items() if live.get(k) != v}
        if removed:
            untag(removed)
        if changed:
            tag(changed)


def queue_properties(name: str, attributes: dict[str, str], tags: dict[str, str],
                     local: Callable[[str], str]) -> dict[str, Any]:
    """The normalised properties of a live queue (the shape compile produces)."""
    fifo = attributes.get("FifoQueue") == "true"
    props: dict[str, Any] = {"name": name, "fifo": fifo}
    for prop, attribute in QUEUE_SECONDS_ATTRIBUTES.items():
        if attributes.get(attribute) not in (None, ""):
            props[prop] = int(attributes[attribute])
    if fifo:
        for prop, attribute in QUEUE_FIFO_ATTRIBUTES.items():
            if attribute in attributes:
                value = attributes[attribute]
                props[prop] = value == "true" if prop == "content_based_deduplication" else value
    redrive = _json_or_none(attributes.get("RedrivePolicy"))
    if isinstance(redrive, dict) and redrive.get("deadLetterTargetArn"):
        props["redrive"] = {"dead_letter_queue": local(redrive["deadLetterTargetArn"]),
                            "max_receive_count": int(redrive.get("maxReceiveCount", 0))}
    allow = _json_or_none(attributes.get("RedriveAllowPolicy"))
    if isinstance(allow, dict) and allow.get("redrivePermission"):
        props["redrive_allow"] = {"permission": allow["redrivePermission"]}
        if allow.get("sourceQueueArns"):
            props["redrive_allow"]["source_queues"] = sorted(local(a) for a in allow["sourceQueueArns"])
    if attributes.get("KmsMasterKeyId"):
        props["sse"] = {"kms_key": attributes["KmsMasterKeyId"]}
        if attributes.get("KmsDataKeyReusePeriodSeconds"):
            props["sse"]["data_key_reuse"] = int(attributes["KmsDataKeyReusePeriodSeconds"])
    elif "SqsManagedSseEnabled" in attributes:
        props["sse"] = {"managed": attributes["SqsManagedSseEnabled"] == "true"}
    props["tags"] = dict(tags)
    return props


def _same_attribute(actual: str | None, expected: str) -> bool:
    if expected in ("", "{}"):
        return actual in (None, "", "{}")
    if actual is None:
        return False
    if actual == expected:
        return True
    parsed_actual, parsed_expected = _json_or_none(actual), _json_or_none(expected)
    if isinstance(parsed_expected, (dict, list)):
        return flatten({"v": parsed_actual}) == flatten({"v": parsed_expected}) or parsed_actual == parsed_expected
    return actual.strip().lower() == expected.strip().lower()


PROVIDER = AwsProvider



def _password_masked(url: str) -> str:
    """`url` as SNS lists a basic-auth HTTPS endpoint: the password replaced by `****`."""
    return replace_url_passwords(url, lambda password: "****", count=1)
