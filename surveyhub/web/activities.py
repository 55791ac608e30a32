"""(Being built for issue 14.)"""

from flask import Blueprint

bp = Blueprint("activities", __name__)
