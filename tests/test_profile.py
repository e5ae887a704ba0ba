"""The domain profile: knowledge as data, loaded into typed values."""

from __future__ import annotations

from importlib.resources import files

import pytest

from meeting_qa.profile import AnswerTuning, FusionWeights, default_profile, parse_profile


def shipped() -> tuple[str, str]:
    here = files("meeting_qa.profile")
    return here.joinpath("genre.toml").read_text(encoding="utf-8"), here.joinpath("glossary_en_zh.tsv").read_text(
        encoding="utf-8"
    )


def test_the_shipped_profile_loads_with_every_kind_and_setting() -> None:
    p = default_profile()
    assert {"who", "when", "quantity", "source", "requirement", "principle", "decision", "department"} <= {
        k.name for k in p.kinds
    }
    assert p.answer_types <= {k.name for k in p.kinds}
    assert isinstance(p.fusion, FusionWeights) and isinstance(p.answer, AnswerTuning)
    assert p.glossary["rural revitalization"] == ("乡村振兴",)


def test_an_unknown_setting_in_the_profile_is_an_error_that_names_it() -> None:
    toml, glossary = shipped()
    with pytest.raises(ValueError, match="abstain_belo"):
        parse_profile(toml.replace("abstain_below =", "abstain_belo ="), glossary)


def test_kind_cues_recognise_the_genres_answers() -> None:
    p = default_profile()
    assert p.answers_kind("quantity", "新增公共停车泊位6000个") and p.answers_kind("quantity", "at least 30 percent")
    assert p.answers_kind("when", "3月15日前完成") and p.answers_kind("when", "by Friday the 14th")
    assert p.answers_kind("department", "由市生态环境局牵头")
    assert not p.answers_kind("quantity", "会议强调要坚持人民至上")


def test_a_copy_with_other_weights_leaves_the_shipped_profile_alone() -> None:
    p = default_profile()
    q = p.with_(fusion={"named_meeting": 0.9}, answer={"abstain_below": 0.2})
    assert q.fusion.named_meeting == 0.9 and q.answer.abstain_below == 0.2
    assert p.fusion.named_meeting != 0.9 or p.answer.abstain_below != 0.2


def test_a_unit_of_government_is_told_from_words_that_merely_end_like_one() -> None:
    p = default_profile()
    for unit in ("由区城投公司负责实施", "市气象局、市水利局", "食品生产安全监督管理科", "市委农办"):
        assert p.answers_kind("department", unit), unit
    for word in ("在保护历史街巷格局的前提下", "年内全部完成", "成功举办"):
        assert not p.answers_kind("department", word), word
