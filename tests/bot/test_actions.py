import socket

import pytest

from actions.answer import ActionAnswerTopic
from actions.case_status import ActionCaseStatus, canonical_tracking_no
from actions.dialogue import ActionGoodbye, ActionGreet, ActionHandoff, ActionInputProblem, ActionOutOfScope
from actions.fallback import ActionTopicFallback
from actions.kb import KnowledgeBaseError, get_kb, load_kb
from actions.reply import KINDS

from .helpers import desk_stub, run_action, tracker

METADATA_KEYS = {"topic", "kind", "fallback", "handoff", "related", "source"}


def assert_contract(payload):
    assert set(payload) == {"text", "buttons", "metadata"}
    assert isinstance(payload["text"], str) and payload["text"]
    assert set(payload["metadata"]) == METADATA_KEYS
    assert payload["metadata"]["kind"] in KINDS
    assert set(payload["metadata"]["source"]) == {"policy", "effective_date"}
    for button in payload["buttons"]:
        assert set(button) == {"title", "payload"} and button["payload"].startswith("/")


def test_answer_topic_renders_from_kb():
    kb = get_kb()
    [payload], events = run_action(ActionAnswerTopic(), tracker("shebao_ka", "社保卡丢了怎么办"))
    assert_contract(payload)
    topic = kb.topics["shebao_ka"]
    meta = payload["metadata"]
    assert meta["topic"] == "shebao_ka" and meta["kind"] == "answer"
    assert meta["fallback"] is False and meta["handoff"] is False
    assert meta["source"] == {"policy": topic.policy, "effective_date": topic.effective_date}
    assert meta["related"] == topic.related
    assert topic.title in payload["text"] and topic.summary in payload["text"]
    assert all(m in payload["text"] for m in topic.materials)
    assert [b["payload"] for b in payload["buttons"]] == [f"/{r}" for r in topic.related[:3]]
    assert events == []


@pytest.mark.parametrize("question, first", [
    ("办护照要带什么材料", "所需材料："),
    ("护照办下来要多久", "办理时限："),
    ("护照收费吗", "收费："),  # actions read the text after TextNormalizer (simplified, half-width)
    ("护照能在手机上办吗", "网上办理："),
    ("护照去哪里办", "现场办理："),
])
def test_a_question_about_one_aspect_gets_that_part_first(question, first):
    kb = get_kb()
    topic = kb.topics["huzhao"]
    [payload], _ = run_action(ActionAnswerTopic(), tracker("huzhao", question))
    lines = payload["text"].splitlines()
    assert lines[0] == f"【{topic.title}】"
    assert lines[1].startswith(first), lines[:3]
    # Nothing of the guide is lost: the other parts follow.
    assert topic.summary in payload["text"] and all(m in payload["text"] for m in topic.materials)
    for part in ("办理条件：", "网上办理：", "现场办理：", "办理时限：", "收费：", "政策依据："):
        assert payload["text"].count(part) == 1, part


def test_how_long_a_benefit_lasts_is_not_a_processing_time_question():
    from actions.answer import asked_aspects

    assert asked_aspects("失业金能领多久") == [] and asked_aspects("公积金贷款能贷多久") == []
    assert asked_aspects("失业金多久能到账") == ["time_limit"]
    assert asked_aspects("办居住证需要啥东西") == ["materials"]


def test_a_general_question_gets_the_guide_in_its_usual_order():
    topic = get_kb().topics["huzhao"]
    for question in ("护照怎么办", "护照的条件、材料、费用、时限都说一下"):
        [payload], _ = run_action(ActionAnswerTopic(), tracker("huzhao", question))
        assert payload["text"].splitlines()[:2] == [f"【{topic.title}】", topic.summary], question


def test_a_close_second_topic_is_offered_first_under_the_answer():
    kb = get_kb()
    ranking = [("yibao_baoxiao", 0.55), ("greet", 0.3), ("yibao_yidi", 0.35), ("yibao_menman", 0.05)]
    trk = tracker("yibao_baoxiao", "在外地看病没备案怎么报销", confidence=0.55, ranking=ranking)
    [payload], _ = run_action(ActionAnswerTopic(), trk)
    assert_contract(payload)
    assert payload["metadata"]["topic"] == "yibao_baoxiao" and payload["metadata"]["kind"] == "answer"
    offered = [b["payload"][1:] for b in payload["buttons"]]
    assert offered[0] == "yibao_yidi" and len(offered) == len(set(offered)) <= 3
    assert payload["metadata"]["related"][0] == "yibao_yidi"
    assert kb.topics["yibao_yidi"].title in payload["text"].splitlines()[-1]


def test_a_distant_second_topic_changes_nothing():
    kb = get_kb()
    ranking = [("shebao_ka", 0.8), ("shebao_canbao", 0.15)]
    [payload], _ = run_action(ActionAnswerTopic(), tracker("shebao_ka", "社保卡丢了", confidence=0.8, ranking=ranking))
    assert payload["metadata"]["related"] == kb.topics["shebao_ka"].related
    assert kb.topics["shebao_canbao"].title not in payload["text"]


@pytest.mark.parametrize("text", ["社保", "请问社保？", "社会保险方面的问题", "SB"])
def test_a_bare_category_gets_a_menu_of_its_topics(text):
    kb = get_kb()
    [payload], _ = run_action(ActionAnswerTopic(), tracker("shebao_ka", text))
    assert_contract(payload)
    assert payload["metadata"]["kind"] == "menu" and payload["metadata"]["topic"] == "shebao_ka"
    offered = [b["payload"][1:] for b in payload["buttons"]]
    assert offered[0] == "shebao_ka"  # the classifier's guess first
    assert sorted(offered) == sorted(t.id for t in kb.topics.values() if t.category == "社保")


@pytest.mark.parametrize("text", ["社保卡丢了", "社保怎么交", "公积金提取"])
def test_a_question_about_a_category_is_answered_not_menued(text):
    [payload], _ = run_action(ActionAnswerTopic(), tracker("shebao_ka", text))
    assert payload["metadata"]["kind"] == "answer"


def test_answer_mentions_the_district_branch():
    ents = [{"entity": "district", "value": "示例市南湖区", "start": 0, "end": 2}]
    [payload], _ = run_action(ActionAnswerTopic(), tracker("dating_dizhi", "南湖的大厅在哪", entities=ents))
    assert "南湖区政务服务中心" in payload["text"]


def test_answer_topic_reads_an_edited_kb_without_retraining(tmp_path, monkeypatch):
    kb_dir = get_kb().directory
    for path in kb_dir.glob("*.yml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    edited = (tmp_path / "huzhao.yml").read_text(encoding="utf-8").replace("护照每本120元", "护照每本99元(测试)")
    (tmp_path / "huzhao.yml").write_text(edited, encoding="utf-8")
    monkeypatch.setenv("KB_DIR", str(tmp_path))
    [payload], _ = run_action(ActionAnswerTopic(), tracker("huzhao", "办护照多少钱"))
    assert "护照每本99元(测试)" in payload["text"]


def test_missing_kb_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(KnowledgeBaseError):
        ActionAnswerTopic()


def test_kb_entry_missing_a_field_is_rejected(tmp_path):
    (tmp_path / "huzhao.yml").write_text("id: huzhao\ntitle: 护照\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="missing fields"):
        load_kb(tmp_path)


def test_fallback_offers_three_knowledge_topics():
    ranking = [
        ("nlu_fallback", 0.45),
        ("greet", 0.30),
        ("gjj_tiqu", 0.20),
        ("out_of_scope", 0.1),
        ("gjj_chaxun", 0.15),
        ("gjj_zhuanyi", 0.05),
        ("gjj_daikuan", 0.04),
    ]
    [payload], _ = run_action(ActionTopicFallback(), tracker("nlu_fallback", "那个钱怎么弄", ranking=ranking))
    assert_contract(payload)
    meta = payload["metadata"]
    assert meta["kind"] == "fallback" and meta["fallback"] is True and meta["topic"] is None
    assert [b["payload"] for b in payload["buttons"]] == ["/gjj_tiqu", "/gjj_chaxun", "/gjj_zhuanyi"]
    assert meta["related"] == ["gjj_tiqu", "gjj_chaxun", "gjj_zhuanyi"]
    kb = get_kb()
    assert [b["title"] for b in payload["buttons"]] == [kb.topics[t].title for t in meta["related"]]


def test_fallback_tops_up_with_popular_topics():
    [payload], _ = run_action(ActionTopicFallback(), tracker("nlu_fallback", "嗯", ranking=[("greet", 0.3)]))
    assert len(payload["buttons"]) == 3 and payload["metadata"]["fallback"] is True


def test_greet_goodbye_handoff():
    [greet], _ = run_action(ActionGreet(), tracker("greet", "你好"))
    [bye], _ = run_action(ActionGoodbye(), tracker("goodbye", "谢谢"))
    [handoff], _ = run_action(ActionHandoff(), tracker("human_handoff", "转人工"))
    for payload in (greet, bye, handoff):
        assert_contract(payload)
    assert greet["metadata"]["kind"] == "greet" and "社保" in greet["text"] and greet["buttons"]
    assert bye["metadata"]["kind"] == "goodbye"
    assert handoff["metadata"]["kind"] == "handoff" and handoff["metadata"]["handoff"] is True
    # Relayed replies identify their topic, dialogue topics included (topic-id contract).
    assert [p["metadata"]["topic"] for p in (greet, bye, handoff)] == ["greet", "goodbye", "human_handoff"]


def test_out_of_scope_names_what_it_heard_and_the_service_categories():
    trk = tracker("out_of_scope", "明天下雨吗", response_key="out_of_scope/weather")
    [payload], _ = run_action(ActionOutOfScope(), trk)
    assert_contract(payload)
    assert payload["metadata"]["kind"] == "out_of_scope" and payload["metadata"]["fallback"] is False
    assert payload["metadata"]["topic"] == "out_of_scope"
    assert "天气" in payload["text"]
    for category in ("社保", "医保", "公积金", "户籍", "出入境", "企业开办"):
        assert category in payload["text"]


def test_out_of_scope_does_not_name_a_sub_kind_it_is_unsure_of():
    kb = get_kb()
    trk = tracker("out_of_scope", "笔记本电池不耐用了", response_key="out_of_scope/food", response_confidence=0.3)
    [payload], _ = run_action(ActionOutOfScope(), trk)
    assert "美食" not in payload["text"] and kb.dialogue["out_of_scope_kinds"]["food"] not in payload["text"]
    assert payload["text"].startswith(kb.text("out_of_scope_generic"))


def test_input_problems():
    [empty], _ = run_action(ActionInputProblem(), tracker("input_empty", ""))
    [long], _ = run_action(ActionInputProblem(), tracker("input_too_long", "很长" * 300))
    assert empty["metadata"]["kind"] == "empty"
    assert long["metadata"]["kind"] == "too_long" and "500" in long["text"]


@pytest.mark.parametrize(
    "raw",
    ["SL20261203-0001", "sl20261203-0001", "ＳＬ２０２６１２０３－０００１", "ｓｌ20261203－0001", "SL202612030001", "编号SL20261203-0001好了吗",
     "查进度 SL-20261203-0001", "sl20261203 0001"],
)
def test_tracking_number_forms(raw):
    assert canonical_tracking_no(raw) == "SL20261203-0001"


def test_tracking_number_rejects_lookalikes():
    assert canonical_tracking_no("SL2026120-0001") is None
    assert canonical_tracking_no("XSL20261203-0001") is None
    assert canonical_tracking_no("13812345678") is None


def test_case_status_asks_for_the_number():
    [payload], events = run_action(ActionCaseStatus(), tracker("case_status", "查一下我的办件进度"))
    assert_contract(payload)
    assert payload["metadata"]["kind"] == "case_status" and "受理编号" in payload["text"]
    assert {"event": "slot", "name": "awaiting_tracking_no", "value": True, "timestamp": None} in events


CASE = {
    "tracking_no": "SL20261203-0001",
    "status": "assigned",
    "status_label": "工作人员处理中",
    "created_at": "2026-12-03T19:52:00+00:00",
    "updated_at": "2026-12-03T10:20:00+00:00",
    "channel": "web",
}


def test_case_status_found(monkeypatch):
    with desk_stub({"SL20261203-0001": CASE}, "svc-token") as (url, seen):
        monkeypatch.setenv("DESK_URL", url)
        monkeypatch.setenv("DESK_SERVICE_TOKEN", "svc-token")
        ents = [{"entity": "tracking_no", "value": "ｓｌ２０２６１２０３－０００１", "start": 0, "end": 15}]
        [payload], events = run_action(ActionCaseStatus(), tracker("case_status", "ｓｌ２０２６１２０３－０００１", entities=ents))
    assert seen == [("/api/internal/cases/SL20261203-0001", "Bearer svc-token")]
    assert_contract(payload)
    assert "SL20261203-0001" in payload["text"] and "工作人员处理中" in payload["text"]
    # UTC from the desk, China time for the citizen (past midnight: the next day)
    assert "2026-12-04 03:52" in payload["text"] and "2026-12-03 18:20" in payload["text"]
    assert {"event": "slot", "name": "tracking_no", "value": "SL20261203-0001", "timestamp": None} in events


def test_case_status_not_found(monkeypatch):
    with desk_stub({}, "svc-token") as (url, _):
        monkeypatch.setenv("DESK_URL", url)
        monkeypatch.setenv("DESK_SERVICE_TOKEN", "svc-token")
        [payload], _ = run_action(ActionCaseStatus(), tracker("case_status", "SL20261203-0999"))
    assert "没有查到" in payload["text"] and "SL20261203-0999" in payload["text"]


def test_case_status_desk_unreachable(monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DESK_URL", f"http://127.0.0.1:{port}")
    [payload], _ = run_action(ActionCaseStatus(), tracker("case_status", "SL20261203-0001"))
    assert_contract(payload)
    assert "暂时无法访问" in payload["text"]
    assert payload["buttons"] == [{"title": "转人工客服", "payload": "/human_handoff"}]


def test_case_status_never_echoes_pii(monkeypatch):
    with desk_stub({}, "t") as (url, _):
        monkeypatch.setenv("DESK_URL", url)
        monkeypatch.setenv("DESK_SERVICE_TOKEN", "t")
        text = "SL20261203-0001 我电话13812345678 身份证110101199003071234"
        [payload], _ = run_action(ActionCaseStatus(), tracker("case_status", text))
    assert "13812345678" not in payload["text"] and "110101199003071234" not in payload["text"]


def _after_answer(topic_id, intent, text, *, user_turns_between=0, confidence=0.2):
    """A tracker whose session holds a knowledge answer about ``topic_id``, then ``text``."""
    from rasa_sdk import Tracker

    from actions.reply import build_payload

    answered = build_payload(text="…", kind="answer", topic=topic_id)
    events = [{"event": "session_started"}, {"event": "user", "text": "问题"},
              {"event": "bot", "data": {"custom": answered}}]
    for i in range(user_turns_between):
        events += [{"event": "user", "text": f"别的{i}"},
                   {"event": "bot", "data": {"custom": build_payload(text="…", kind="fallback", fallback=True)}}]
    events.append({"event": "user", "text": text})
    base = tracker(intent, text, confidence=confidence)
    return Tracker(base.sender_id, {}, base.latest_message, events, False, None, {}, "action_listen")


@pytest.mark.parametrize("action, intent, text, first", [
    (ActionTopicFallback, "nlu_fallback", "需要多长时间", "办理时限："),
    (ActionTopicFallback, "nlu_fallback", "那在哪里办呢？", "现场办理："),
    (ActionOutOfScope, "out_of_scope", "要多少钱", "收费："),
    (ActionAnswerTopic, "jiazhao_huanzheng", "网上能办吗", "网上办理："),
])
def test_a_follow_up_about_one_aspect_answers_the_topic_just_answered(action, intent, text, first):
    topic = get_kb().topics["huzhao"]
    [payload], _ = run_action(action(), _after_answer("huzhao", intent, text))
    assert_contract(payload)
    assert payload["metadata"]["topic"] == "huzhao" and payload["metadata"]["kind"] == "answer"
    assert payload["metadata"]["fallback"] is False
    lines = payload["text"].splitlines()
    assert lines[0] == f"【{topic.title}】" and lines[1].startswith(first), lines[:3]


def test_a_question_that_names_its_own_subject_is_not_a_follow_up():
    [payload], _ = run_action(ActionAnswerTopic(), _after_answer("shebao_ka", "huzhao", "护照要多久", confidence=0.9))
    assert payload["metadata"]["topic"] == "huzhao"
    [payload], _ = run_action(ActionTopicFallback(), _after_answer("shebao_ka", "nlu_fallback", "怎么交罚款"))
    assert payload["metadata"]["kind"] == "fallback"


@pytest.mark.parametrize("action, intent, text", [
    (ActionCaseStatus, "case_status", "多久能办好"),
    (ActionGreet, "greet", "要多久啊亲"),
    (ActionOutOfScope, "out_of_scope", "要不要钱"),
    (ActionAnswerTopic, "yanglao_lingqu", "每个月能领多少钱"),
])
def test_a_follow_up_read_as_a_dialogue_intent_still_continues_the_topic(action, intent, text):
    [payload], _ = run_action(action(), _after_answer("shiye_jin", intent, text))
    assert payload["metadata"]["topic"] == "shiye_jin" and payload["metadata"]["kind"] == "answer", text


def test_a_follow_up_needs_a_recent_answer_in_this_session():
    # Nothing answered yet: the usual did-not-understand reply.
    [payload], _ = run_action(ActionTopicFallback(), tracker("nlu_fallback", "需要多长时间", confidence=0.2))
    assert payload["metadata"]["kind"] == "fallback"
    # Answered, but four questions ago: no longer what the citizen is talking about.
    [payload], _ = run_action(ActionTopicFallback(),
                              _after_answer("huzhao", "nlu_fallback", "需要多长时间", user_turns_between=3))
    assert payload["metadata"]["kind"] == "fallback"
    [payload], _ = run_action(ActionTopicFallback(),
                              _after_answer("huzhao", "nlu_fallback", "需要多长时间", user_turns_between=2))
    assert payload["metadata"]["topic"] == "huzhao"


def test_follow_up_detection():
    from actions.answer import is_follow_up

    for text in ("需要多长时间", "在哪里办", "要多少钱", "那要带什么材料呢", "网上能办吗", "有什么条件", "能在手机上办吗",
                 "多久能拿到", "要不要钱", "流程是怎样的", "每个月能领多少钱", "能领多久", "要带身份证吗",
                 "多少钱一本", "哪里能办", "要多久啊亲", "周末能办吗", "需要体检吗", "支付宝能办吗", "那利率是多少"):
        assert is_follow_up(text), text
    for text in ("护照要多久", "社保卡丢了怎么补办", "我想办身份证要什么材料", "你好", "在吗", "谢谢", "转人工",
                 "今天天气怎么样", "你是谁", "我的办件进度", "怎么交罚款", "孩子上学怎么报名", "好的", "😀",
                 "SL20261203-0001", "这个问题我想了很久还是不太明白到底要准备什么东西"):
        assert not is_follow_up(text), text


def test_an_unsure_out_of_scope_reading_offers_topics_instead_of_refusing():
    trk = tracker("out_of_scope", "干活时从脚手架上摔下来了", confidence=0.45,
                  ranking=[("out_of_scope", 0.45), ("gongshang_rending", 0.3), ("yibao_baoxiao", 0.1)],
                  response_key="out_of_scope/tech")
    [payload], _ = run_action(ActionOutOfScope(), trk)
    assert_contract(payload)
    assert payload["metadata"]["kind"] == "fallback" and payload["metadata"]["fallback"] is True
    assert payload["buttons"][0]["payload"] == "/gongshang_rending"
    assert "电脑" not in payload["text"]


def test_an_answer_before_a_goodbye_or_a_refusal_is_no_longer_followed_up():
    from rasa_sdk import Tracker

    from actions.answer import last_answered_topic
    from actions.reply import build_payload

    for kind, topic in (("goodbye", "goodbye"), ("out_of_scope", "out_of_scope"), ("handoff", "human_handoff")):
        events = [{"event": "user", "text": "入学报名要什么"},
                  {"event": "bot", "data": {"custom": build_payload(text="…", kind="answer", topic="ruxue_baoming")}},
                  {"event": "user", "text": "好的谢谢，另外我想问户口的事"},
                  {"event": "bot", "data": {"custom": build_payload(text="…", kind=kind, topic=topic)}},
                  {"event": "user", "text": "要什么材料"}]
        base = tracker("nlu_fallback", "要什么材料")
        trk = Tracker(base.sender_id, {}, base.latest_message, events, False, None, {}, "action_listen")
        assert last_answered_topic(trk) is None, kind


def test_how_much_one_receives_is_not_a_fee_question():
    from actions.answer import asked_aspects

    for text in ("失业金每个月能领多少钱", "低保每个月发多少钱", "公积金里还有多少钱", "能贷多少钱"):
        assert "fee" not in asked_aspects(text), text
    assert asked_aspects("办护照多少钱") == ["fee"]


def test_a_new_subject_in_a_short_question_is_not_a_follow_up():
    from actions.answer import is_follow_up

    for text in ("孩子发烧了去哪个医院", "电动车上牌要什么材料", "高考成绩在哪查"):
        assert not is_follow_up(text), text


def test_a_bare_category_with_a_particle_still_gets_the_menu():
    from actions.answer import bare_category

    kb = get_kb()
    assert bare_category(kb, "那公积金呢") == "公积金" and bare_category(kb, "那社保呢？") == "社保"
    assert bare_category(kb, "社保卡丢了") is None
