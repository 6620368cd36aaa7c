"""Forms of the portfolio pages. They validate input; the writes go through
``governance.services.portfolio*`` (which check the rules again, so the API and pages agree)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import Group

from modelworks.core.forms import PageForm
from modelworks.core.models import Project, User
from modelworks.governance.models import PortfolioRole, RiskLevel, Stage, StageKind, UseCase
from modelworks.governance.services.portfolio import EDITABLE_FIELDS, SORTS

__all__ = [
    "IdeaForm",
    "MemberForm",
    "MoveForm",
    "PortfolioFilterForm",
    "QualifyForm",
    "RejectForm",
    "StageForm",
    "UseCaseForm",
]

SCORE_CHOICES = [("", "Not scored"), *((str(i), str(i)) for i in range(1, 6))]


def _users() -> Any:
    return User.objects.filter(is_active=True).order_by("username")


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.display_name
        return f"{name} ({obj.username})" if name != obj.username else obj.username


def _amount(label: str, help_text: str = "", places: int = 2) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0"),
        max_digits=14 if places == 2 else 10,
        decimal_places=places,
        initial=Decimal("0"),
        help_text=help_text,
    )


class UseCaseForm(PageForm):
    """Create or edit a use case. ``editor`` decides which projects can be linked (their own)."""

    title = forms.CharField(max_length=200)
    problem_statement = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What goes wrong today, and for whom.",
    )
    business_unit = forms.CharField(max_length=100, required=False, help_text="e.g. Operations, Finance.")
    business_owner = _UserChoice(
        queryset=User.objects.none(),
        required=False,
        help_text="Accountable for the value; may edit the use case.",
    )
    sponsor = forms.CharField(max_length=200, required=False, help_text="The executive backing it.")
    expected_value_one_off = _amount("Expected one-off value")
    expected_value_recurring = _amount("Expected recurring value per year")
    currency = forms.CharField(max_length=3, initial="EUR", help_text="Three-letter code, e.g. EUR.")
    value_formula = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="How the value is computed, e.g. '1,200 delays a year x 15 min x EUR 8 per minute'.",
    )
    value_assumptions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the estimate takes for granted.",
    )
    cost_people_days = _amount("Estimated effort (people-days)", places=1)
    cost_compute = _amount("Estimated compute cost", "In the same currency.")
    feasibility_score = forms.TypedChoiceField(
        choices=SCORE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="1 = very hard, 5 = easy.",
    )
    data_readiness_score = forms.TypedChoiceField(
        choices=SCORE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="1 = the data does not exist yet, 5 = clean and available.",
    )
    risk_level = forms.ChoiceField(choices=RiskLevel.choices, initial=RiskLevel.UNASSESSED)
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only projects you are a member of are listed.",
    )

    def __init__(
        self,
        *args: Any,
        editor: Any,
        use_case: UseCase | None = None,
        can_change_owner: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.use_case = use_case
        self.fields["business_owner"].queryset = _users()
        if not can_change_owner:
            self.fields["business_owner"].disabled = True
            self.fields[
                "business_owner"
            ].help_text = "Only governance leads can hand the use case to someone else."
        own = Project.objects.visible_to(editor)
        self.fields["projects"].queryset = own.order_by("name")
        # Linked projects the editor is not in stay linked, and are shown as text by the page.
        self.hidden_projects = (
            list(use_case.projects.exclude(id__in=own.values("id")).order_by("name"))
            if use_case and use_case.pk
            else []
        )

    @staticmethod
    def initial_of(use_case: UseCase) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(use_case, name) for name in EDITABLE_FIELDS}
        initial["projects"] = list(use_case.projects.all())
        return initial

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def values(self) -> tuple[dict[str, Any], list[Project]]:
        """The use-case fields, and the projects to link (the editor's choice plus the ones kept)."""
        values = {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}
        for text in ("problem_statement", "business_unit", "sponsor", "value_formula", "value_assumptions"):
            values[text] = values[text] or ""
        projects = [*self.cleaned_data["projects"], *self.hidden_projects]
        return values, projects


class PortfolioFilterForm(PageForm):
    """Filters of the portfolio list (GET)."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    unit = forms.ChoiceField(required=False, label="Business unit")
    stage = forms.ChoiceField(required=False)
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Business owner")
    risk = forms.ChoiceField(required=False, choices=[("", "Any risk"), *RiskLevel.choices], label="Risk")
    sort = forms.ChoiceField(required=False, choices=[(k, v[0]) for k, v in SORTS.items()])

    def __init__(self, *args: Any, units: list[str], owners: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", "Any unit"), *((u, u) for u in units)]
        self.fields["stage"].choices = [
            ("", "Any stage"),
            *Stage.objects.order_by("order").values_list("key", "label"),
        ]
        self.fields["owner"].choices = [("", "Anyone"), *((str(u.pk), u.display_name) for u in owners)]


class MoveForm(PageForm):
    stage = forms.ChoiceField(label="Move to stage")
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, current: Stage | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stages = Stage.objects.order_by("order")
        if current is not None:
            stages = stages.exclude(pk=current.pk)
        self.fields["stage"].choices = list(stages.values_list("key", "label"))


class IdeaForm(PageForm):
    """The short demand-intake form anyone signed in can fill."""

    title = forms.CharField(max_length=200, help_text="A short name, e.g. 'Predict late departures'.")
    problem_statement = forms.CharField(
        label="The problem",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What goes wrong today, and for whom?",
    )
    business_unit = forms.CharField(
        max_length=100, required=False, help_text="The unit that has the problem."
    )
    expected_benefit = forms.CharField(
        required=False,
        label="Expected benefit",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What would get better, in your words (fewer delays, less manual work…).",
    )
    value_estimate = forms.DecimalField(
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        label="Value estimate per year",
        help_text="A rough figure if you have one; leave empty otherwise.",
    )
    currency = forms.CharField(max_length=3, initial="EUR", required=False, help_text="Empty: EUR.")

    def clean_currency(self) -> str:
        return (self.cleaned_data["currency"] or "EUR").strip().upper()


class QualifyForm(PageForm):
    business_owner = _UserChoice(
        queryset=User.objects.none(), required=False, help_text="Who is accountable for it."
    )
    comment = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["business_owner"].queryset = _users()


class RejectForm(PageForm):
    reason = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The submitter sees this reason: say why, and what would change the decision.",
    )


class StageForm(PageForm):
    """Add a stage (with ``key``) or edit one (``editing``: the key stays)."""

    key = forms.CharField(max_length=40, help_text="Short stable name, e.g. user-testing.")
    label = forms.CharField(max_length=100, label="Name")
    kind = forms.ChoiceField(choices=StageKind.choices, initial=StageKind.ACTIVE)
    description = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["key"]


class MemberForm(PageForm):
    """Grant a portfolio role to a user or a group (exactly one)."""

    user = _UserChoice(queryset=User.objects.none(), required=False)
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False)
    role = forms.ChoiceField(choices=PortfolioRole.choices, initial=PortfolioRole.VIEWER)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _users()
        self.fields["group"].queryset = Group.objects.order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("group")):
            raise forms.ValidationError("Choose either a user or a group, not both and not neither.")
        return data
