"""Strict vs lenient seqeval, exact spans, operations metrics, threshold tuning and the written reports."""
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from rasd.evaluation import evaluate_predictions, score_operations, tune_thresholds, write_reports


def test_strict_differs_from_lenient_on_a_stray_inside_tag():
    gold = [["B-LOCATION", "I-LOCATION", "O"]]
    pred = [["I-LOCATION", "I-LOCATION", "O"]]
    assert f1_score(gold, pred) == 1.0  # lenient (conlleval) accepts I-X I-X as an entity
    assert f1_score(gold, pred, mode="strict", scheme=IOB2) == 0.0


TEXT = "قصف التحالف الدولي مواقع داعش في الرقة وبغداد"


def _gold():
    return [{"id": "a", "text": TEXT, "entities": [{"start": 4, "end": 18, "label": "AGENCY"},
                                                    {"start": 25, "end": 29, "label": "ARMED_GROUP"},
                                                    {"start": 33, "end": 38, "label": "LOCATION"}],
             "operations": ["AIRSTRIKE"]},
            {"id": "b", "text": "خبر بلا عمليات", "operations": []},
            {"id": "c", "text": "في وزارة الدفاع", "entities": [], "ignore": [{"start": 3, "end": 15}]}]


def test_evaluate_predictions_end_to_end(tmp_path):
    preds = [{"entities": [{"start": 4, "end": 18, "label": "AGENCY"}, {"start": 33, "end": 38, "label": "LOCATION"},
                           {"start": 39, "end": 44, "label": "LOCATION"}],
              "operations": ["AIRSTRIKE", "RAID"], "operation_scores": {}},
             {"entities": [{"start": 0, "end": 3, "label": "LOCATION"}], "operations": [], "operation_scores": {}},
             {"entities": [{"start": 3, "end": 8, "label": "AGENCY"}], "operations": [], "operation_scores": {}}]
    report, errors = evaluate_predictions(_gold(), preds)
    strict = report["entities"]["strict"]
    assert report["entities"]["articles"] == 2  # record b has no entities: scored on operations only
    assert strict["AGENCY"]["f1"] == 1.0  # the prediction inside c's ignore region is not scored
    assert strict["ARMED_GROUP"]["recall"] == 0.0
    assert abs(strict["LOCATION"]["precision"] - 0.5) < 1e-9  # وبغداد is a spurious LOCATION
    assert abs(strict["micro"]["precision"] - 2 / 3) < 1e-9 and abs(strict["micro"]["recall"] - 2 / 3) < 1e-9
    assert report["entities"]["exact_spans"]["LOCATION"] == {"tp": 1, "gold": 1, "predicted": 2}
    ops = report["operations"]
    assert ops["articles"] == 2 and ops["AIRSTRIKE"]["f1"] == 1.0 and ops["RAID"]["precision"] == 0.0
    assert ops["subset_accuracy"] == 0.5 and ops["accuracy_on_none"] == 1.0
    assert {e["id"] for e in errors} == {"a"}
    write_reports(report, errors, tmp_path, "t", "rasd evaluate ...")
    assert (tmp_path / "confusion.png").stat().st_size > 1000
    assert "strict" in (tmp_path / "report.md").read_text()


def test_tune_thresholds_moves_to_separate_classes():
    gold = [{"operations": ["RAID"]}, {"operations": ["RAID"]}, {"operations": []}, {"operations": []}]
    preds = [{"operation_scores": {"RAID": s, "AIRSTRIKE": 0.1, "ARREST": 0.1, "ASSASSINATION": 0.1}}
             for s in (0.3, 0.25, 0.1, 0.05)]
    thresholds = tune_thresholds(gold, preds)
    assert 0.1 < thresholds[0] <= 0.25 and thresholds[1:] == [0.5, 0.5, 0.5]
    report, _ = score_operations(gold, [{"operations": ["RAID"] if p["operation_scores"]["RAID"] >= thresholds[0]
                                         else []} for p in preds])
    assert report["RAID"]["f1"] == 1.0
