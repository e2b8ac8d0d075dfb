# The sale fields and the return_order method Fulfil adds to Tryton's sale. return_order builds a Tryton return sale
# (negative quantities, origin = the sale, as Tryton's own Return Sale wizard does) and runs it through Tryton's
# quote → confirm → process, so the credit note and customer return shipment are Tryton's own.
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC
from trytond.transaction import Transaction

PRIORITIES = [(None, ''), ('0', "Emergency"), ('1', "High"), ('2', "Medium"), ('3', "Low")]


class Channel(ModelSQL, ModelView):
    "Sale Channel"
    __name__ = 'sale.channel'
    name = fields.Char("Name", required=True)
    code = fields.Char("Code")


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'
    channel = fields.Many2One('sale.channel', "Channel", ondelete='RESTRICT')
    channel_identifier = fields.Char("Channel Identifier", select=True)
    priority = fields.Selection(PRIORITIES, "Priority")
    origin_sale = fields.Function(
        fields.Many2One('sale.sale', "Origin Sale"),
        'get_origin_sale', searcher='search_origin_sale')
    has_return = fields.Function(fields.Boolean("Has Return"), 'get_has_return')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__['return_order'] = RPC(readonly=False, instantiate=0)

    def get_origin_sale(self, name):
        origin = self.origin
        return origin.id if origin and origin.__name__ == 'sale.sale' else None

    @classmethod
    def search_origin_sale(cls, name, clause):
        _, operator, value = clause[:3]
        if operator == 'in':
            return [('origin', 'in', ['sale.sale,%s' % v for v in value])]
        if operator == '=':
            return [('origin', '=', 'sale.sale,%s' % value if value is not None else None)]
        raise UserError("origin_sale supports only '=' and 'in'.")

    @classmethod
    def get_has_return(cls, sales, name):
        returned = {s.origin_sale for s in cls.search([('origin_sale', 'in', [s.id for s in sales]), ('state', '!=', 'cancelled')])}
        return {s.id: s.id in returned for s in sales}

    @staticmethod
    def _withdrawn(sale):
        "A return sale whose customer return shipments were all cancelled brings nothing back (Tryton keeps a processing sale processing)."
        shipments = sale.shipment_returns
        return bool(shipments) and all(s.state == 'cancelled' for s in shipments)

    def return_order(self, args):
        "Fulfil's return_order: one return sale per channel_identifier (idempotent)."
        pool = Pool()
        Location = pool.get('stock.location')
        Line = pool.get('sale.line')
        Date = pool.get('ir.date')
        if self.state not in {'confirmed', 'processing', 'done'}:
            raise UserError("Sale %s is '%s'; only confirmed sales can be returned." % (self.rec_name, self.state))
        if self.origin_sale:
            raise UserError("A return order cannot itself be returned.")
        identifier = args.get('channel_identifier')
        if not identifier:
            raise UserError("return_order needs a channel_identifier.")
        existing = self.search([('channel_identifier', '=', identifier)])
        if existing:
            if existing[0].origin_sale == self:
                return existing[0].id
            raise UserError("Channel identifier '%s' is already used by sale %s." % (identifier, existing[0].rec_name))
        warehouse = Location(args['warehouse']) if args.get('warehouse') else self.warehouse
        if warehouse.type != 'warehouse':
            raise UserError("Location %s is not a warehouse." % warehouse.rec_name)
        if not args.get('lines'):
            raise UserError("return_order needs at least one line.")

        lines = []
        for values in args['lines']:
            original = Line(values.get('order_line_id'))
            if original.sale != self or original.type != 'line':
                raise UserError("Sale line %s is not on sale %s." % (values.get('order_line_id'), self.rec_name))
            returned = sum(-l.quantity for l in Line.search([
                        ('origin_line', '=', original.id), ('sale.state', '!=', 'cancelled')])
                if not self._withdrawn(l.sale))
            planned = sum(-l.quantity for l in lines if l.origin_line == original)
            returnable = original.quantity - returned - planned
            quantity = values.get('return_quantity')
            quantity = returnable if quantity is None else float(quantity)
            if quantity <= 0 or quantity > returnable:
                raise UserError("Cannot return %s of sale line %s: %s returnable." % (quantity, original.id, returnable))
            price = values.get('unit_price')
            line = Line(
                type='line', product=original.product, unit=original.unit, quantity=-quantity,
                unit_price=Decimal(str(price)) if price is not None else original.unit_price,
                description=original.description, taxes=list(original.taxes), origin_line=original,
                channel_identifier=values.get('channel_identifier'), return_reason=values.get('return_reason'),
                note=values.get('note'))
            lines.append(line)

        sale = self.__class__(
            company=self.company, party=self.party, invoice_address=self.invoice_address,
            shipment_address=self.shipment_address, currency=self.currency, payment_term=self.payment_term,
            warehouse=warehouse, invoice_method=self.invoice_method, shipment_method=self.shipment_method,
            reference=args.get('reference') or self.reference, channel=self.channel,
            channel_identifier=identifier, priority=self.priority, origin=self, sale_date=Date.today(), lines=lines)
        sale.save()
        # Tryton's own workflow from here: quote, confirm (which queues process: credit note, return shipment).
        self.__class__.quote([sale])
        self.__class__.confirm([sale])
        return sale.id


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'
    channel_identifier = fields.Char("Channel Identifier")
    return_reason = fields.Char("Return Reason")
    origin_line = fields.Many2One('sale.line', "Origin Line", readonly=True, ondelete='RESTRICT')
