"""A merchant set-up on a fresh Tryton database, with proteus (Tryton's own client) and Tryton's test helpers.

Mirrors the simulator's demo data (LoopFulfil.Sandbox/Fulfil/FulfilSandboxDemo.cs: same SKUs, location and account
codes, sales #1001-#1004) so the same Loop returns run against both. Prints key=value lines for the caller.
Usage: /usr/bin/python3 setup.py trytond.conf   (DB_NAME names the database)
"""
import datetime
import os
import sys
from decimal import Decimal

from proteus import Model, Wizard, config

conf = config.set_trytond(os.environ['DB_NAME'], config_file=sys.argv[1])

from trytond.modules.company.tests.tools import create_company, get_company  # noqa: E402
from trytond.modules.account.tests.tools import (  # noqa: E402
    create_fiscalyear, create_chart, get_accounts, create_tax)
from trytond.modules.account_invoice.tests.tools import (  # noqa: E402
    set_fiscalyear_invoice_sequences, create_payment_term)
from trytond.modules.account_stock_continental.tests.tools import add_stock_accounts  # noqa: E402

today = datetime.date.today()
Currency = Model.get('currency.currency')
usd, = Currency.find([('code', '=', 'USD')]) or [None]
if usd is None:
    usd = Currency(name='US Dollar', code='USD', symbol='$', rounding=Decimal('0.01'), digits=2)
    usd.save()
Party = Model.get('party.party')
create_company(party=Party(name='LoopFulfil Demo Co'), currency=usd)
company = get_company()

# Fiscal years around today (returns may carry dates of the previous year), continental stock accounting.
for year in range(today.year - 2, today.year + 2):
    fy = set_fiscalyear_invoice_sequences(create_fiscalyear(company, datetime.date(year, 6, 1)))
    fy.account_stock_method = 'continental'
    fy.click('create_period')

create_chart(company)
accounts = add_stock_accounts(get_accounts(company), company)
Account = Model.get('account.account')
codes = {'cash': '1000', 'receivable': '1200', 'payable': '2100', 'tax': '2300', 'revenue': '4000', 'expense': '5000'}
for kind, code in codes.items():
    accounts[kind].code = code
    accounts[kind].save()


def add_account(code, name, like):
    account = Account(name=name, code=code, type=like.type, parent=like.parent, company=company)
    account.save()
    return account


clearing = add_account('2350', 'Returns clearing', accounts['tax'])
liability = add_account('2400', 'Gift card liability', accounts['tax'])
fees = add_account('4100', 'Return handling fees', accounts['revenue'])
stock_out, = accounts['stock_expense'].duplicate()

tax = create_tax(Decimal('.10'))
tax.name = tax.description = 'Sales tax 10%'
tax.save()
payment_term = create_payment_term()
payment_term.save()

Category = Model.get('product.category')
category = Category(name='Apparel', accounting=True, account_expense=accounts['expense'],
    account_revenue=accounts['revenue'], account_stock=accounts['stock'],
    account_stock_in=accounts['stock_expense'], account_stock_out=stock_out)
category.customer_taxes.append(tax)
category.save()

# Locations: codes of the simulator. Quarantine and damaged sit outside the sellable storage tree as the warehouse's
# waste locations (type lost_found, which Tryton allows only at the top level), the only places besides storage that
# Tryton lets a return shipment receive into.
Location = Model.get('stock.location')
warehouse, = Location.find([('type', '=', 'warehouse')])
storage = warehouse.storage_location
storage.code, storage.name = 'STOR', 'Storage (sellable)'
storage.save()
warehouse.input_location.code = 'IN'
warehouse.input_location.save()
customer_loc, = Location.find([('type', '=', 'customer')])
customer_loc.code = 'CUST'
customer_loc.save()
supplier_loc, = Location.find([('type', '=', 'supplier')])
supplier_loc.code = 'SUP'
supplier_loc.save()
Location(name='Storage bin A1', code='STOR-A1', type='storage', parent=storage).save()
quarantine = Location(name='Returns quarantine', code='QUAR', type='lost_found')
quarantine.save()
damaged = Location(name='Damaged', code='DMG', type='lost_found')
damaged.save()
warehouse.waste_locations.extend([Location(quarantine.id), Location(damaged.id)])
warehouse.save()

Country = Model.get('country.country')
Subdivision = Model.get('country.subdivision')
countries = {}
for code, name in [('US', 'United States'), ('GB', 'United Kingdom'), ('CA', 'Canada'), ('DE', 'Germany')]:
    countries[code] = Country(name=name, code=code)
    countries[code].save()
for country, code, name, kind in [('US', 'US-NY', 'New York', 'state'), ('US', 'US-CA', 'California', 'state'),
        ('CA', 'CA-ON', 'Ontario', 'province')]:
    Subdivision(country=countries[country], code=code, name=name, type=kind).save()

customers = {}
for key, name, street, city, zip_ in [('a', 'Demo Customer A', '1 Example St', 'New York', '10001'),
        ('b', 'Demo Customer B', '22 Sample Ave', 'Los Angeles', '90001'),
        ('c', 'Demo Customer C', '3 Test Rd', 'Buffalo', '14201')]:
    party = Party(name=name)
    address, = party.addresses
    address.street, address.city, address.postal_code, address.country = street, city, zip_, countries['US']
    party.contact_mechanisms.new(type='email', value='%s@example.com' % key)
    party.save()
    customers[key] = party

Uom = Model.get('product.uom')
unit, = Uom.find([('name', '=', 'Unit')])
Template = Model.get('product.template')
products = {}
catalog = [('TEE-BLK-M', 'Black tee M', '25.00', 40), ('TEE-BLK-L', 'Black tee L', '25.00', 35),
    ('HOOD/GRY:XL', 'Grey hoodie XL', '79.99', 12), ('CAP/RED:OS', 'Red cap one size', '19.50', 20),
    ('SOCK-3PK', 'Socks 3-pack', '12.00', 100), ('JEANS-32/32', 'Jeans 32/32', '89.00', 8),
    ('TEE#LOGO-S', 'Logo tee S', '27.00', 10), ('MÜTZE-ÉTÉ/ß', 'Sommermütze', '15.00', 6),
    ('TEE-2019-RETIRED', 'Tee 2019 (retired)', '20.00', 3)]
for sku, name, price, _ in catalog:
    template = Template(name=name, type='goods', salable=True, default_uom=unit, sale_uom=unit,
        list_price=Decimal(price), cost_price_method='fixed', account_category=category, code=sku)
    template.save()
    product, = template.products
    product.cost_price = (Decimal(price) * Decimal('0.4')).quantize(Decimal('0.01'))
    product.save()
    products[sku] = product
GiftCard = Template(name='Gift card', type='service', salable=True, default_uom=unit, sale_uom=unit,
    list_price=Decimal('0'), account_category=category, code='GIFT-CARD', gift_card=True)
GiftCard.save()

# Stock on hand: received from the supplier at cost, so continental accounting books it.
Move = Model.get('stock.move')
moves = [Move(product=products[sku], uom=unit, quantity=qty, from_location=supplier_loc, to_location=storage,
    planned_date=today, effective_date=today, company=company, unit_price=products[sku].cost_price, currency=usd)
    for sku, _, _, qty in catalog]
Move.click(moves, 'do')

Journal = Model.get('account.journal')
cash_journal, = Journal.find([('type', '=', 'cash')])
stock_journal, = Journal.find([('code', '=', 'STO')])
misc_journal = Journal(name='Miscellaneous', code='MISC', type='general', sequence=stock_journal.sequence)
misc_journal.save()
PaymentMethod = Model.get('account.invoice.payment.method')
paid_by = PaymentMethod(name='Shopify payments', company=company, journal=cash_journal,
    credit_account=accounts['cash'], debit_account=accounts['cash'])
paid_by.save()

Channel = Model.get('sale.channel')
web = Channel(name='Web store', code='web')
web.save()
exchanges = Channel(name='Loop exchanges', code='loop')
exchanges.save()

Sale = Model.get('sale.sale')
ShipmentOut = Model.get('stock.shipment.out')


def sale(reference, party, lines, ship='all', pay=True):
    """A web-store sale quoted, confirmed and processed by Tryton. ship: 'all', 'none' or 'first' (only the first
    line's goods leave; the rest stays to ship, as a partial shipment leaves it)."""
    s = Sale(party=party, reference=reference, channel_identifier='555000' + reference.lstrip('#'), channel=web,
        priority='2', payment_term=payment_term, invoice_method='order', shipment_method='order')
    for sku, qty, price in lines:
        # Attribute by attribute, so Tryton's on_change fills taxes and unit from the product.
        line = s.lines.new()
        line.product = products[sku]
        line.quantity = qty
        line.unit_price = Decimal(price)
    s.click('quote')
    s.click('confirm')
    s.reload()
    assert s.state == 'processing', s.state
    for invoice in s.invoices:
        invoice.click('post')
        if pay:
            wizard = Wizard('account.invoice.pay', [invoice])
            wizard.form.payment_method = paid_by
            wizard.execute('choice')
    if ship != 'none':
        for shipment in s.shipments:
            if ship == 'first':
                first = products[lines[0][0]]
                later = [m for m in shipment.outgoing_moves if m.product != first]
                for move in later:
                    shipment.outgoing_moves.remove(move)
                for move in [m for m in shipment.inventory_moves if m.product != first]:
                    shipment.inventory_moves.remove(move)
                shipment.save()
            shipment.click('assign_force')
            shipment.click('pick')
            shipment.click('pack')
            shipment.click('done')
    s.reload()
    return s


sale('#1001', customers['a'], [('TEE-BLK-M', 2, '25.00'), ('HOOD/GRY:XL', 1, '79.99')])
sale('#1002', customers['b'], [('JEANS-32/32', 1, '89.00'), ('CAP/RED:OS', 2, '19.50')], ship='none', pay=False)
sale('#1003', customers['c'], [('SOCK-3PK', 3, '12.00'), ('TEE-BLK-L', 1, '25.00')])
sale('#1004', customers['a'], [('TEE-2019-RETIRED', 1, '20.00')])
sale('#1005', customers['b'], [('TEE#LOGO-S', 3, '27.00'), ('MÜTZE-ÉTÉ/ß', 1, '15.00')], ship='first')
# Archived after it was sold, as happens to real catalogues.
retired = products['TEE-2019-RETIRED']
retired.active = False
retired.save()

User = Model.get('res.user')
admin, = User.find([('login', '=', 'admin')])
Application = Model.get('res.user.application')
key = Application(user=admin, application='fulfil_rest')
key.save()
key.click('validate_')

print('api_key=%s' % key.key)
print('company_id=%s' % company.id)
print('warehouse_id=%s' % warehouse.id)
print('journal_id=%s' % misc_journal.id)
print('exchange_channel_id=%s' % exchanges.id)
print('web_channel_id=%s' % web.id)
