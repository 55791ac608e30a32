"""(Being built for issue 14.)"""

from flask import Blueprint

bp = Blueprint("org_reports", __name__)
