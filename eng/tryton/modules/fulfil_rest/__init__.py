# The Fulfil REST v2 façade over Tryton 6.0: the routes Fulfil serves (routes.py) and the few fields and methods Fulfil
# adds to Tryton's models (sale.py). Receiving into quarantine is Tryton's own return shipment flow. Everything else is Tryton's own models and workflows.
from trytond.pool import Pool

from . import party, product, res, routes, sale

__all__ = ['register', 'routes']


def register():
    Pool.register(
        party.Address,
        product.Product,
        res.UserApplication,
        sale.Channel,
        sale.Sale,
        sale.SaleLine,
        module='fulfil_rest', type_='model')
