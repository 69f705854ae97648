"""Problems found in a route file, each with its line, key path and a sentence.

Messages are French first, with English; ``code`` is stable for programs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relais.i18n import Said, localize, said

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (français, English)
    "yaml_syntax": ("YAML invalide : {detail}", "invalid YAML: {detail}"),
    "too_large": ("fichier trop grand ({size} octets, maximum {limit})",
                  "file too large ({size} bytes, at most {limit})"),
    "too_deep": ("imbrication trop profonde", "nesting too deep"),
    "too_long_number": ("nombre trop long (plus de {limit} chiffres)",
                        "number too long (more than {limit} digits)"),
    "not_finite": ("nombre infini ou indéfini (.inf, .nan) non admis",
                   "infinite or undefined numbers (.inf, .nan) are not allowed"),
    "control_character": ("caractère de contrôle non admis (NUL, BEL, ESC...)",
                          "control characters (NUL, BEL, ESC...) are not allowed"),
    "too_long": ("{length} caractères, {limit} au plus", "{length} characters, at most {limit}"),
    "alias": ("les ancres et alias YAML (&, *) ne sont pas admis",
              "YAML anchors and aliases (&, *) are not allowed"),
    "tag": ("l'étiquette YAML {tag} n'est pas admise", "the YAML tag {tag} is not allowed"),
    "duplicate_key": ("clé « {key} » en double (déjà à la ligne {first})",
                      "duplicate key '{key}' (first at line {first})"),
    "unknown_key": ("clé inconnue « {key} » ; clés possibles : {allowed}",
                    "unknown key '{key}'; expected one of: {allowed}"),
    "missing_key": ("clé obligatoire « {key} » manquante", "required key '{key}' is missing"),
    "wrong_type": ("devrait être {expected}, trouvé {found}",
                   "should be {expected}, found {found}"),
    "empty": ("ne doit pas être vide", "must not be empty"),
    "bad_slug": ("« {value} » : seulement lettres minuscules, chiffres et '-'",
                 "'{value}': only lowercase letters, digits and '-'"),
    "bad_name": ("« {value} » : un nom commence par une lettre minuscule, puis lettres, chiffres, '_'",
                 "'{value}': a name starts with a lowercase letter, then letters, digits, '_'"),
    "version_range": ("la version est un entier de 1 à {limit}",
                      "the version is an integer from 1 to {limit}"),
    "not_positive": ("doit être un entier positif", "must be a positive integer"),
    "fr_required": ("le texte en français (fr) est obligatoire", "the French text (fr) is required"),
    "unknown_language": ("langue inconnue « {lang} »", "unknown language '{lang}'"),
    "unknown_institution": ("« {name} » n'est ni un type d'institution ({kinds}) ni un code du registre",
                            "'{name}' is neither an institution kind ({kinds}) nor a registry code"),
    "institution_not_in_route": ("« {name} » ne figure pas dans institutions de la route ({listed})",
                                 "'{name}' is not among the route's institutions ({listed})"),
    "unknown_calendar": ("calendrier inconnu « {value} » (exemples : CH-NE, CH, FR, AZ)",
                         "unknown calendar '{value}' (e.g. CH-NE, CH, FR, AZ)"),
    "unknown_state": ("« {name} » ne désigne aucun état", "'{name}' names no state"),
    "unknown_event": ("« {name} » ne désigne aucun événement de la route",
                      "'{name}' names no event of the route"),
    "event_not_from_state": ("l'événement « {name} » ne part pas de l'état « {state} »",
                             "event '{name}' does not leave state '{state}'"),
    "unreachable": ("l'état « {state} » ne peut pas être atteint depuis « {initial} »",
                    "state '{state}' cannot be reached from '{initial}'"),
    "dead_end": ("impasse : aucun état final n'est atteignable depuis « {state} »",
                 "dead end: no final state can be reached from '{state}'"),
    "needs_deadline": ("un état non final doit avoir un délai (deadline)",
                       "a non-final state needs a deadline"),
    "needs_owner": ("un état non final doit avoir un responsable (owner)",
                    "a non-final state needs an owner"),
    "final_has": ("un état final n'a pas de « {key} »", "a final state has no '{key}'"),
    "from_final": ("l'état « {state} » est final : aucune transition n'en part",
                   "state '{state}' is final: no transition may leave it"),
    "bad_deadline": ("délai « {value} » illisible ; écrire N jours ouvrables | N jours | N semaines | N mois (ou N working days | N days | N weeks | N months)",
                     "cannot read deadline '{value}'; write N working days | N days | N weeks | N months"),
    "unknown_action": ("action inconnue « {name} » ; actions disponibles : {known}",
                       "unknown action '{name}'; available actions: {known}"),
    "bad_require": ("« {name} » : exiger reason, outcome ou un champ de fields",
                    "'{name}': require reason, outcome or a name from fields"),
    "shadowed": ("jamais prise : la transition {first} (même événement « {event} » depuis « {state} ») "
                 "n'a pas de condition et passe toujours avant",
                 "never taken: transition {first} (same event '{event}' from '{state}') "
                 "has no guard and always matches first"),
    "no_outcomes": ("l'état final « {state} » exige une issue mais la route n'a pas d'outcomes",
                    "final state '{state}' needs an outcome but the route has no outcomes"),
    "bad_outcome_setting": ("outcome d'un état ne peut valoir que none", "a state's outcome can only be none"),
    "guard_syntax": ("condition illisible à la colonne {column} : {detail}",
                     "cannot read the guard at column {column}: {detail}"),
    "guard_too_long": ("condition trop longue ({size} caractères, maximum {limit})",
                       "guard too long ({size} characters, at most {limit})"),
    "guard_too_deep": ("condition trop imbriquée (plus de {limit} parenthèses)",
                       "guard nested too deeply (more than {limit} parentheses)"),
    "guard_unknown_field": ("la condition nomme un champ inconnu « {name} » ; champs : {known}",
                            "the guard names an unknown field '{name}'; fields: {known}"),
    "guard_type": ("condition mal typée : {detail}", "guard has wrong types: {detail}"),
    "enum_values": ("un champ enum doit lister ses valeurs (values)", "an enum field must list its values"),
    "bounds": ("min et max ne valent que pour integer et number, avec min ≤ max",
               "min and max apply to integer and number only, with min ≤ max"),
    "titles_not_enum": ("titles ne vaut que pour un champ de type enum",
                        "titles applies to an enum field only"),
    "enum_title_unknown": ("« {name} » n'est pas une valeur de ce champ ; valeurs : {known}",
                           "'{name}' is not a value of this field; values: {known}"),
    "recipients_not_consent": ("recipients ne vaut que pour un champ de type consent",
                               "recipients applies to a consent field only"),
}


def said_params(params: dict[str, Any], lang: str) -> dict[str, Any]:
    """The values a message writes in, those written in both languages (a ``Said``, a guard's
    ``detail``) in ``lang``."""
    return {k: localize(v, lang) if isinstance(v, Said) or (k == "detail" and isinstance(v, str))
            else v for k, v in params.items()}


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    path: str
    code: str
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def message(self, lang: str = "fr") -> str:
        fr, en = MESSAGES[self.code]
        return said(lang, fr, en).format(**said_params(self.params, lang))

    def render(self, filename: str, lang: str = "fr") -> str:
        """``FILE:LINE: KEY.PATH: message``, the spec's command-line format."""
        return f"{filename}:{self.line}: {self.path or '(racine)'}: {self.message(lang)}"


def format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
