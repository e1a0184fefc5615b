"""A pyarrow.flight client against a running scry agent, as a notebook user
would write it. Prints one JSON object with what it saw; exits non-zero on
any unexpected behaviour. Usage: flight_client.py HOST:PORT TOKEN"""
import json
import sys

import pyarrow as pa
import pyarrow.flight as fl

addr, token = sys.argv[1], sys.argv[2]
client = fl.connect(f"grpc://{addr}")
auth = fl.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])
out = {}

# List tables: one FlightInfo per table, with schema and row count.
infos = list(client.list_flights(options=auth))
out["tables"] = {i.descriptor.path[0].decode(): i.total_records for i in infos}
http = next(i for i in infos if i.descriptor.path[0] == b"http_events")
out["http_schema"] = [f.name for f in http.schema]

# A raw table, through the endpoint's ticket and through a hand-written one.
raw = client.do_get(http.endpoints[0].ticket, options=auth).read_all()
raw2 = client.do_get(fl.Ticket(json.dumps({"table": "http_events", "start_time": "-10m"})), options=auth).read_all()
assert raw.num_rows == raw2.num_rows, (raw.num_rows, raw2.num_rows)
out["raw_rows"] = raw.num_rows
out["raw_time_type"] = str(raw.schema.field("time_").type)

# A plain script: its only output.
plain = {"script": "import px\ndf = px.DataFrame('http_events')\ndf = df[df.resp_status >= 400]\npx.display(df[['req_path', 'resp_status']], 'errors')\n"}
t = client.do_get(fl.Ticket(json.dumps(plain)), options=auth).read_all()
out["errors"] = sorted(zip(t.column("req_path").to_pylist(), t.column("resp_status").to_pylist()))

# A bundled script with args (function mode via its vis.json).
bundled = {"name": "px/http_data", "args": {"start_time": "-10m", "max_num_records": 2}}
t = client.do_get(fl.Ticket(json.dumps(bundled)), options=auth).read_all()
out["http_data_rows"] = t.num_rows
out["http_data_columns"] = t.column_names

# The run action: one result per output, each with a ticket.
results = [json.loads(r.body.to_pybytes()) for r in client.do_action(fl.Action("run", json.dumps(plain).encode()), options=auth)]
out["run_outputs"] = [r["name"] for r in results]
t = client.do_get(fl.Ticket(results[0]["ticket"]), options=auth).read_all()
assert t.num_rows == len(out["errors"]), t.num_rows

# Wrong token → Unauthenticated.
bad = fl.FlightCallOptions(headers=[(b"authorization", b"Bearer wrong")])
try:
    list(client.list_flights(options=bad))
    out["wrong_token"] = "accepted"
except fl.FlightUnauthenticatedError as e:
    out["wrong_token"] = "unauthenticated"

# Bad script → InvalidArgument (pyarrow raises ArrowInvalid) with line:col.
broken = {"script": "import px\ndf = px.DataFrame('http_events')\ndf.x = df.nope\npx.display(df)\n"}
try:
    client.do_get(fl.Ticket(json.dumps(broken)), options=auth).read_all()
    out["bad_script"] = "accepted"
except pa.ArrowInvalid as e:
    out["bad_script"] = str(e)

print(json.dumps(out))
