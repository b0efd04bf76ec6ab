"""`callsynth serve` against real AWS clients: the AWS CLI runs the setup guide's commands as
written (plus --endpoint-url), boto3 sends PutEvents with good and bad entries, and raw requests
check the errors. Exits non-zero on the first failed check.

Run through scripts/aws-cli-test, which provides the virtualenv and the binary.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

BINARY = sys.argv[1]
VENV_BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def start_serve(db, *flags):
    """Starts `callsynth serve` on a free port; returns the process, its port and endpoint."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([BINARY, "serve", "--db", db, "--listen", f"127.0.0.1:{port}", *flags],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{endpoint}/health", timeout=1).read()
            return process, port, endpoint
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit("FAILED: callsynth serve did not come up: " + process.stderr.read())


workdir = tempfile.mkdtemp(prefix="callsynth-serve-")
db = os.path.join(workdir, "serve.db")
server, port, endpoint = start_serve(db)

env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
env.pop("AWS_PROFILE", None)


def aws(*args, ok=True):
    done = subprocess.run(
        [os.path.join(VENV_BIN, "aws"), *args, "--endpoint-url", endpoint],
        env=env,
        capture_output=True,
        text=True,
    )
    if ok and done.returncode != 0:
        sys.exit(f"FAILED: aws {' '.join(args)}: {done.stderr}")
    return done


try:
    # The setup guide's commands, verbatim but for --endpoint-url (YOUR_AWS_ACCOUNT_ID included).
    out = json.loads(aws("events", "create-event-bus", "--name", "twilio-call-events", "--region", "us-east-1").stdout)
    check(out["EventBusArn"].endswith(":event-bus/twilio-call-events"), "create-event-bus returns the bus ARN")
    bus_arn = out["EventBusArn"]
    for rule, detail_type, function in [
        ("twilio-call-completed", "com.twilio.voice.call.completed", "process-call-completed"),
        ("twilio-transcription-completed", "com.twilio.voice.transcription.completed", "update-segment-profile"),
    ]:
        pattern = '{\n    "source": ["aws.partner/twilio.com"],\n    "detail-type": ["' + detail_type + '"]\n  }'
        out = json.loads(aws("events", "put-rule", "--name", rule, "--event-bus-name", "twilio-call-events",
                             "--event-pattern", pattern).stdout)
        check(out["RuleArn"].endswith(f":rule/twilio-call-events/{rule}"), f"put-rule {rule}")
        # What the shell passes for the guide's `--targets "Id"="1","Arn"="…"`.
        out = json.loads(aws("events", "put-targets", "--rule", rule, "--event-bus-name", "twilio-call-events",
                             "--targets",
                             f"Id=1,Arn=arn:aws:lambda:us-east-1:YOUR_AWS_ACCOUNT_ID:function:{function}").stdout)
        check(out["FailedEntryCount"] == 0, f"put-targets {rule}")
    target = "arn:aws:lambda:us-east-1:YOUR_AWS_ACCOUNT_ID:function:process-call-completed"
    out = json.loads(aws("events", "list-rule-names-by-target", "--target-arn", target).stdout)
    check(out["RuleNames"] == [], "list-rule-names-by-target without --event-bus-name looks at default, as AWS does")
    out = json.loads(aws("events", "list-rule-names-by-target", "--target-arn", target,
                         "--event-bus-name", "twilio-call-events").stdout)
    check(out["RuleNames"] == ["twilio-call-completed"], "list-rule-names-by-target on the guide's bus")
    # The CLI paginates list-rules itself: one rule per page still lists both.
    out = json.loads(aws("events", "list-rules", "--event-bus-name", "twilio-call-events", "--page-size", "1").stdout)
    check([r["Name"] for r in out["Rules"]] == ["twilio-call-completed", "twilio-transcription-completed"],
          "list-rules pages with NextToken")
    err = aws("events", "describe-rule", "--name", "nope", "--event-bus-name", "twilio-call-events", ok=False)
    check(err.returncode != 0 and "ResourceNotFoundException" in err.stderr, "describe-rule of a missing rule")
    err = aws("events", "put-rule", "--name", "bad", "--event-pattern", '{"source": "x"}', ok=False)
    check("InvalidEventPatternException" in err.stderr, "put-rule with an invalid pattern")

    # Generated calls' events through the CLI: the built-in processors store them.
    bodies = subprocess.run([BINARY, "generate", "--format", "putevents", "--calls", "20", "-q"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    accepted = 0
    for i, body in enumerate(bodies):
        path = os.path.join(workdir, f"body{i}.json")
        with open(path, "w") as f:
            f.write(body)
        out = json.loads(aws("events", "put-events", "--cli-input-json", f"file://{path}").stdout)
        check(out["FailedEntryCount"] == 0, f"put-events request {i}") if i == 0 else None
        accepted += len(out["Entries"])
    completed = sum(1 for b in bodies for e in json.loads(b)["Entries"]
                    if e["DetailType"] == "com.twilio.voice.call.completed")
    transcribed = sum(1 for b in bodies for e in json.loads(b)["Entries"]
                      if e["DetailType"] == "com.twilio.voice.transcription.completed")
    for _ in range(100):
        with sqlite3.connect(db) as conn:
            calls = conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
            analysed = conn.execute("SELECT COUNT(*) FROM call_analytics").fetchone()[0]
        if calls == completed and analysed == transcribed:
            break
        time.sleep(0.05)
    check(calls == completed and completed > 0, f"process-call-completed stored {calls} of {completed} calls")
    check(analysed == transcribed and transcribed > 0, f"update-segment-profile analysed {analysed} of {transcribed}")

    # boto3: 10 entries, some bad; the good ones go in, the bad ones fail on their own.
    client = boto3.client("events", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    good = {"Source": "test.app", "DetailType": "t", "Detail": '{"a": 1}', "EventBusName": "twilio-call-events"}
    entries = [dict(good) for _ in range(10)]
    entries[2] = {k: v for k, v in good.items() if k != "Detail"}
    entries[5] = dict(good, Detail="[1, 2]")
    entries[7] = dict(good, Detail='{"big": "' + "x" * (1024 * 1024) + '"}')
    entries[9] = dict(good, EventBusName="no-such-bus")
    out = client.put_events(Entries=entries)
    codes = [e.get("ErrorCode") for e in out["Entries"]]
    check(out["FailedEntryCount"] == 4, f"boto3 put_events: 4 of 10 entries fail ({codes})")
    check(all(codes[i] is None and out["Entries"][i]["EventId"] for i in (0, 1, 3, 4, 6, 8)), "good entries get ids")
    check(codes[5] == "MalformedDetail" and codes[2] is not None and codes[7] is not None and codes[9] is not None,
          "bad entries get error codes")
    try:
        client.put_events(Entries=[dict(good)] * 11)
        check(False, "11 entries are refused")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "ValidationException", "11 entries: ValidationException")
    result = client.test_event_pattern(
        EventPattern='{"detail-type": [{"prefix": "com.twilio"}]}',
        Event=json.dumps({"id": "1", "account": "123456789012", "source": "s", "time": "2026-01-01T00:00:00Z",
                          "region": "us-east-1", "resources": [], "detail-type": "com.twilio.voice.call.completed",
                          "detail": {}}),
    )
    check(result["Result"] is True, "test_event_pattern")
    # Archive and replay as the CLI sends them (timestamps, the destination shorthand).
    out = json.loads(aws("events", "create-archive", "--archive-name", "calls", "--event-source-arn", bus_arn).stdout)
    archive_arn = out["ArchiveArn"]
    check(out["State"] == "ENABLED" and archive_arn.endswith(":archive/calls"), "create-archive")
    check(client.put_events(Entries=[dict(good)])["FailedEntryCount"] == 0, "an event after the archive exists")
    out = json.loads(aws("events", "start-replay", "--replay-name", "again", "--event-source-arn", archive_arn,
                         "--event-start-time", "2020-01-01T00:00:00Z", "--event-end-time", "2099-01-01T00:00:00Z",
                         "--destination", f"Arn={bus_arn}").stdout)
    check(out["State"] == "COMPLETED", "start-replay")
    out = json.loads(aws("events", "describe-replay", "--replay-name", "again").stdout)
    check(out["State"] == "COMPLETED" and out["Destination"]["Arn"] == bus_arn and "EventLastReplayedTime" in out,
          "describe-replay")
    out = json.loads(aws("events", "describe-archive", "--archive-name", "calls").stdout)
    check(out["EventCount"] == 1 and out["SizeBytes"] > 0, f"describe-archive counts what it kept ({out['EventCount']})")
    check([r["ReplayName"] for r in client.list_replays()["Replays"]] == ["again"], "list_replays")
    err = aws("events", "cancel-replay", "--replay-name", "again", ok=False)
    check("IllegalStatusException" in err.stderr, "cancel-replay of a finished replay")
    buses = [b["Name"] for b in client.list_event_buses()["EventBuses"]]
    check(buses == ["default", "twilio-call-events"], f"a fresh store has only default, plus what was created ({buses})")

    # Raw requests: AWS-shaped errors, and the server keeps serving.
    def raw(target, body):
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        if target:
            headers["X-Amz-Target"] = target
        req = urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    for target, body, code in [
        ("AWSEvents.PutEvents", b"not json", "SerializationException"),
        (None, b"{}", "UnknownOperationException"),
        ("AWSEvents.Frobnicate", b"{}", "UnknownOperationException"),
        ("AWSEvents.PutEvents", b'{"Entries": []}', "ValidationException"),
        ("AWSEvents.DescribeEventBus", b'{"Name": "arn:aws:events:bad"}', "ValidationException"),
        ("AWSEvents.ListRules", b'{"EventBusName": "missing"}', "ResourceNotFoundException"),
    ]:
        status, answer = raw(target, body)
        check(status == 400 and answer["__type"] == code, f"{target} {body[:20]!r}: {status} {answer['__type']}")
    # Clients that send their bodies slowly (or not at all) hold a connection, not the server.
    slow = []
    for _ in range(3):
        conn = socket.create_connection(("127.0.0.1", port))
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSEvents.ListEventBuses\r\n"
                     b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 100\r\n\r\n{\"Na")
        slow.append(conn)
    started = time.monotonic()
    status, answer = raw("AWSEvents.ListEventBuses", b"{}")
    check(status == 200 and time.monotonic() - started < 2, "a normal request is served while slow clients trickle")
    for conn in slow:
        conn.close()
    status, answer = raw("AWSEvents.PutEvents", json.dumps({"Entries": [dict(good, Detail='{"big": "' + "y" * (13 << 20) + '"}')]}).encode())
    check(status == 413 and answer["__type"] == "ValidationException", "a body over the server's limit gets 413")
    check(urllib.request.urlopen(f"{endpoint}/health", timeout=2).read() == b"ok\n", "still serving")
    metrics = urllib.request.urlopen(f"{endpoint}/metrics", timeout=2).read().decode()
    check('metric="Invocations",event_bus="twilio-call-events",rule="twilio-call-completed"' in metrics,
          "/metrics has the bus's counters")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        sys.exit("FAILED: callsynth serve did not stop on SIGTERM")
check(code == 0, "SIGTERM stops the server cleanly")

# --require-sigv4: the CLI's real signatures pass, anything else is refused (fail closed).
secure, port, endpoint = start_serve(os.path.join(workdir, "secure.db"), "--require-sigv4",
                                     "--sigv4-key", "AKIDCALLSYNTHTEST:s3cr3t/key+example")
try:
    env = dict(env, AWS_ACCESS_KEY_ID="AKIDCALLSYNTHTEST", AWS_SECRET_ACCESS_KEY="s3cr3t/key+example")
    out = json.loads(aws("events", "create-event-bus", "--name", "signed").stdout)
    check(out["EventBusArn"].endswith("/signed"), "a SigV4-signed CLI request is accepted")
    env = dict(env, AWS_SECRET_ACCESS_KEY="wrong")
    err = aws("events", "list-event-buses", ok=False)
    check(err.returncode != 0 and "InvalidSignatureException" in err.stderr, "a wrong secret is refused")
    env = dict(env, AWS_ACCESS_KEY_ID="AKIDUNKNOWN", AWS_SECRET_ACCESS_KEY="s3cr3t/key+example")
    err = aws("events", "list-event-buses", ok=False)
    check("UnrecognizedClientException" in err.stderr, "an unknown key is refused")
    req = urllib.request.Request(endpoint + "/", data=b"{}", method="POST",
                                 headers={"X-Amz-Target": "AWSEvents.ListEventBuses",
                                          "Content-Type": "application/x-amz-json-1.1"})
    try:
        urllib.request.urlopen(req, timeout=5)
        check(False, "an unsigned request is refused")
    except urllib.error.HTTPError as e:
        check(e.code == 403 and json.loads(e.read())["__type"] == "MissingAuthenticationTokenException",
              "an unsigned request is refused with 403")
finally:
    secure.send_signal(signal.SIGTERM)
    secure.wait(timeout=10)
print("aws-cli-test: all checks passed")
