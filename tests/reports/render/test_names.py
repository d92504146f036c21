"""Human names for machine names: attacks, columns and intersections read as words."""

from __future__ import annotations

from reports.render.names import attack_name, column_name, field_name, group_phrase


def test_columns_read_as_words_with_units():
    assert column_name("tpr_1pct") == "TPR at 1% FPR"
    assert column_name("p_value") == "p-value"
    assert column_name("auc_low") == "AUC low"
    assert column_name("mean_abs_shap") == "mean |SHAP| (log-odds)"
    assert column_name("tpr_5pct_extra") == "tpr 5% extra"  # unknown: words, never the id


def test_attacks_are_named_in_words():
    assert attack_name("lira_offline") == "LiRA (offline)"
    assert attack_name("rmia_online") == "RMIA (online)"
    assert "_" not in attack_name("some_new_attack")


def test_intersections_have_no_asterisk():
    assert field_name("ethnicity*gender") == "ethnicity and gender combined"
    assert field_name("a*b*c") == "a, b and c combined"
    assert field_name("gender") == "gender"


def test_groups_as_a_sentence_names_them():
    assert group_phrase("ethnicity", "Black") == "Black customers"
    assert group_phrase("expecting_parent", "0") == "customers with expecting_parent 0"
    assert group_phrase("age_band", "18-34") == "customers with age_band 18-34"
