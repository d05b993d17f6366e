from flask import Blueprint

bp = Blueprint("nominations", __name__)


@bp.app_context_processor
def dossier_vocabulary():
    """The dossier's enumerations, for every template that shows a dossier."""
    from capital.domain.dossier import BudgetRange, Theme
    from capital.domain.roles import Role

    return {"themes": {int(theme): theme for theme in Theme},
            "budgets": {budget.value: budget for budget in BudgetRange},
            "roles": Role}


from capital.nominations import routes  # noqa: E402,F401
