"""The contract check itself: it passes what the specifications allow and names what they refuse."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.contracts import CONTRACTS, HERE, RawRequest, assert_requests_conform, request_problems

AUTH = {"Authorization": "Bearer user-token"}
SID = "AC5a1dbeef5a1dbeef5a1dbeef5a1dbeef"


def raw(method: str, url: str, **kwargs) -> RawRequest:
    request = httpx.Request(method, url, **kwargs)
    return RawRequest(method, request.url.path, request.url.query.decode(), dict(request.headers),
                      request.read())


def test_every_contract_file_is_there_and_is_openapi_3():
    for contract in CONTRACTS.values():
        document = json.loads((HERE / contract.file).read_text(encoding="utf-8"))
        assert document["openapi"].startswith("3.0")
        assert document["paths"]
    assert (HERE / "README.md").exists()


def test_x_requests_as_the_adapter_makes_them_conform():
    upload = raw("POST", "https://api.x.com/2/media/upload", headers=AUTH, data={"media_category": "tweet_image"},
                 files={"media": ("a.png", b"\x89PNG\r\n", "image/png")})
    post = raw("POST", "https://api.x.com/2/tweets", headers=AUTH,
               json={"text": "Hi", "media": {"media_ids": ["123"]}, "reply": {"in_reply_to_tweet_id": "9"}})
    lookup = raw("GET", "https://api.x.com/2/tweets", headers=AUTH,
                 params={"ids": "1,2", "post.fields": "public_metrics"})
    listing = raw("GET", "https://api.x.com/2/users/1500000000000000001/tweets", headers=AUTH,
                  params={"start_time": "2026-12-04T21:59:00Z", "end_time": "2026-12-04T22:10:00Z",
                          "max_results": "100", "post.fields": "created_at,text", "pagination_token": "c4"})
    for request in (upload, post, lookup, listing, raw("DELETE", "https://api.x.com/2/tweets/123", headers=AUTH),
                    raw("GET", "https://api.x.com/2/users/me", headers=AUTH)):
        assert request_problems("x", request) == [], request


@pytest.mark.parametrize(("request_", "needle"), [
    (raw("GET", "https://api.x.com/2/tweets", headers=AUTH, params={"ids": "1", "tweet.fields": "public_metrics"}),
     "query parameter 'tweet.fields' is not in the specification"),
    (raw("GET", "https://api.x.com/2/tweets", headers=AUTH, params={"ids": "1", "post.fields": "views"}),
     "post.fields"),
    (raw("POST", "https://api.x.com/2/media/upload", headers=AUTH,
         data={"media_category": "tweet_image", "media_type": "image/png"},
         files={"media": ("a.png", b"\x89PNG", "image/png")}),
     "body field 'media_type' is not allowed (additionalProperties: false"),
    (raw("POST", "https://api.x.com/2/tweets", headers=AUTH, json={"text": "Hi", "status": "Hi"}),
     "Additional properties are not allowed"),
    (raw("POST", "https://api.x.com/2/tweets", json={"text": "Hi"}), "Authorization scheme 'missing'"),
    (raw("GET", "https://api.x.com/2/tweets/search/recent", headers=AUTH), "Path not found"),
    (raw("GET", "https://api.x.com/2/users/1/tweets", headers=AUTH, params={"max_results": "500"}), "max_results"),
    (raw("GET", "https://api.x.com/2/users/1/tweets", headers=AUTH, params={"since": "2026-12-04"}),
     "query parameter 'since' is not in the specification"),
])
def test_x_requests_the_spec_refuses_are_named(request_, needle):
    problems = request_problems("x", request_)
    assert any(needle in problem for problem in problems), problems


def test_twilio_requests_are_checked_against_the_messages_resource():
    url = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    basic = {"Authorization": "Basic " + base64.b64encode(f"{SID}:token".encode()).decode()}
    ok = raw("POST", url, data={"To": "+447700900001", "From": "+15005550006", "Body": "Hi"}, headers=basic)
    assert request_problems("sms", ok) == []
    assert request_problems("sms", raw("GET", f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json",
                                       headers=basic)) == []
    listing = raw("GET", url, params={"To": "+447700900001", "From": "+15005550006",
                                      "DateSent>": "2026-12-04T21:59:00Z", "PageSize": "100"}, headers=basic)
    assert request_problems("sms", listing) == []
    assert any("PageSize" in p for p in request_problems("sms", raw("GET", url, params={"PageSize": "0"},
                                                                     headers=basic)))
    no_to = raw("POST", url, data={"From": "+15005550006", "Body": "Hi"}, headers=basic)
    assert any("To" in problem for problem in request_problems("sms", no_to))
    bad_sid = raw("POST", url.replace(SID, "nope"), data={"To": "+447700900001", "Body": "Hi"}, headers=basic)
    assert request_problems("sms", bad_sid)
    bearer = raw("POST", url, data={"To": "+447700900001", "Body": "Hi"}, headers=AUTH)
    assert any("Authorization scheme 'bearer'" in problem for problem in request_problems("sms", bearer))


def test_assert_requests_conform_names_every_refused_request():
    class Logged:
        def __init__(self, request: RawRequest) -> None:
            self.method, self.path, self.query = request.method, request.path, request.query
            self.headers, self.body = request.headers, request.body

    good = Logged(raw("GET", "https://api.x.com/2/users/me", headers=AUTH))
    bad = Logged(raw("GET", "https://api.x.com/2/users/me", headers=AUTH, params={"since": "1"}))
    token = Logged(raw("POST", "https://api.x.com/2/oauth2/token", data={"grant_type": "refresh_token"}))
    assert assert_requests_conform("x", [good, token]) == 1  # the token endpoint is outside the spec
    with pytest.raises(AssertionError, match=r"GET /2/users/me\?since=1: query parameter 'since'"):
        assert_requests_conform("x", [good, bad])


def test_the_x_sandbox_rules_are_the_contracts():
    """The sandbox (no test dependencies) keeps its own copy of the spec's lists: they must agree."""
    from platforms.x.sandbox import XApi

    document = json.loads((HERE / "x_openapi.json").read_text(encoding="utf-8"))
    schemas, parameters = document["components"]["schemas"], document["components"]["parameters"]

    def properties(name: str) -> set[str]:
        assert schemas[name]["additionalProperties"] is False
        return set(schemas[name]["properties"])

    assert XApi.POST_FIELDS == properties("CreatePostsRequest")
    assert XApi.POST_MEDIA_FIELDS == properties("CreatePostsMedia")
    assert XApi.POST_REPLY_FIELDS == properties("CreatePostsReply")
    assert XApi.UPLOAD_FIELDS == properties("MediaUploadRequest")
    assert XApi.MEDIA_CATEGORIES == set(schemas["MediaUploadRequest"]["properties"]["media_category"]["enum"])
    assert XApi.POST_FIELD_NAMES == set(parameters["PostFieldsParameter"]["schema"]["items"]["enum"])

    ops = {"lookup_tweets": ("/2/tweets", "get"), "users_me": ("/2/users/me", "get"),
           "user_posts": ("/2/users/{id}/tweets", "get")}
    for op, (path, method) in ops.items():
        declared = set()
        for parameter in document["paths"][path][method]["parameters"]:
            if "$ref" in parameter:
                parameter = parameters[parameter["$ref"].rsplit("/", 1)[1]]
            if parameter["in"] == "query":
                declared.add(parameter["name"])
        assert XApi.QUERY[op] == declared, op
    bearer_ops = {(path, method) for path, item in document["paths"].items() for method, operation in item.items()
                  if any("BearerToken" in requirement for requirement in operation.get("security", []))}
    # of the kept operations; GET /2/tweets/{id} too in the full spec
    assert bearer_ops == {("/2/tweets", "get"), ("/2/users/{id}/tweets", "get")}
    assert {"lookup_tweets", "user_posts"} <= XApi.APP_ONLY_OPS
    assert XApi.LIST_MAX_RESULTS == (
        document["paths"]["/2/users/{id}/tweets"]["get"]["parameters"][1]["schema"]["minimum"],
        document["paths"]["/2/users/{id}/tweets"]["get"]["parameters"][1]["schema"]["maximum"])
