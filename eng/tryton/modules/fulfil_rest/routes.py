# Fulfil's REST v2 model interface (fulfil-api.md §3) as Tryton routes: /<database>/api/v2/model/...
# Each request runs as the user of its API key (res.user.application), with Tryton's RPC rules (only methods in
# __rpc__, access checks on) and Tryton's JSON encoding; UserError becomes Fulfil's 400 body.
import json
import logging
import time
from http import HTTPStatus

from werkzeug.wrappers import Response

from trytond import backend
from trytond.config import config
from trytond.exceptions import UserError, UserWarning, ConcurrencyException
from trytond.tools import is_instance_method
from trytond.protocols.jsonrpc import JSONDecoder, JSONEncoder
from trytond.protocols.wrappers import with_pool
from trytond.transaction import Transaction
from trytond.worker import run_task
from trytond.wsgi import app

from .res import APPLICATION

logger = logging.getLogger(__name__)
PREFIX = '/<database_name>/api/v2/model/<model>'


def _json(status, data):
    return Response(json.dumps(data, cls=JSONEncoder, separators=(',', ':')), status=status,
        content_type='application/json')


def _error(status, message, type_=None, code=None, description=''):
    body = {'message': message}
    if type_:
        body.update(type=type_, code=code, description=description or '')
    return _json(status, body)


def _loads(text, default=None):
    if text in (None, ''):
        return default
    return json.loads(text, object_hook=JSONDecoder())


def _api_key(request):
    key = request.headers.get('X-API-KEY')
    if not key:
        auth = request.headers.get('Authorization', '')
        if auth[:7].lower() == 'bearer ':
            key = auth[7:].strip()
    return key


def _run(request, pool, readonly, action, status=HTTPStatus.OK):
    """Runs action(pool) in a transaction as the key's user, with Tryton's retry on a locked database, then the
    queued tasks (sale processing) as Tryton's dispatcher does; maps errors to Fulfil's answers."""
    key = _api_key(request)
    if not key:
        return _error(HTTPStatus.UNAUTHORIZED, "Missing API key.", 'AuthenticationError')
    try:
        context = _loads(request.args.get('context'), {})
    except ValueError:
        return _error(HTTPStatus.BAD_REQUEST, "context is not JSON.")
    if not isinstance(context, dict):
        return _error(HTTPStatus.BAD_REQUEST, "context must be a JSON object.")
    retry = config.getint('database', 'retry')
    for count in range(retry, -1, -1):
        if count != retry:
            time.sleep(0.05 * (retry - count))
        with Transaction().start(pool.database_name, 0, readonly=readonly) as transaction:
            try:
                application = pool.get('res.user.application').check(key, APPLICATION)
                if not application:
                    return _error(HTTPStatus.UNAUTHORIZED, "Invalid API key.", 'AuthenticationError')
                user = application.user.id
                with transaction.set_user(user):
                    preferences = pool.get('res.user').get_preferences(context_only=True)
                ctx = dict(preferences)
                ctx.update({k: v for k, v in context.items() if not k.startswith('_')})
                company = ctx.get('company')
                if company is not None and company not in preferences.get('companies', [company]):
                    return _error(HTTPStatus.BAD_REQUEST, "Company %s is not accessible to this user." % company,
                        'UserError', 'AccessError')
                ctx['_request'] = request.context
                with transaction.set_user(user), transaction.set_context(ctx):
                    result = action(pool, ctx)
            except backend.DatabaseOperationalError:
                transaction.rollback()
                transaction.tasks.clear()
                if count and not readonly:
                    continue
                return _error(HTTPStatus.SERVICE_UNAVAILABLE, "The database is busy; retry later.")
            except (UserError, UserWarning) as e:
                transaction.rollback()
                transaction.tasks.clear()
                return _error(HTTPStatus.BAD_REQUEST, e.message, 'UserError', e.__class__.__name__, e.description)
            except ConcurrencyException as e:
                transaction.rollback()
                transaction.tasks.clear()
                return _error(HTTPStatus.CONFLICT, str(e), 'ConcurrencyException')
            except _NotFound as e:
                transaction.rollback()
                return _error(HTTPStatus.NOT_FOUND, str(e))
            except (KeyError, ValueError, TypeError, AttributeError, IndexError) as e:
                # Malformed calls (unknown field, wrong argument shape): permanent, not a server fault.
                transaction.rollback()
                transaction.tasks.clear()
                logger.info("bad request %s: %r", request.path, e, exc_info=True)
                return _error(HTTPStatus.BAD_REQUEST, "%s: %s" % (e.__class__.__name__, e))
            transaction.commit()
        while transaction.tasks:
            run_task(pool, transaction.tasks.pop())
        return _json(status, result)


class _NotFound(Exception):
    pass


def _model(pool, name, type_='model'):
    try:
        return pool.get(name, type=type_)
    except KeyError:
        raise _NotFound("Fulfil has no model %s." % name)


def _flatten(rows, fields):
    # Fulfil answers a dotted field ("product.code") under its own name; Tryton 6 nests it under "product.".
    dotted = [f for f in fields if '.' in f]
    for row in rows:
        for name in dotted:
            value = row
            for part in name.split('.'):
                value = value.get(part + '.') if isinstance(value, dict) and (part + '.') in value else (
                    value.get(part) if isinstance(value, dict) else None)
            row[name] = value
        for name in dotted:
            row.pop(name.split('.')[0] + '.', None)
    return rows


def _call(pool, ctx, model, method, args):
    Model = _model(pool, model)
    rpc = Model.__rpc__.get(method)
    if rpc is None:
        raise ValueError("Calling method %s on %s is not allowed." % (method, model))
    c_args, c_kwargs, context, _ = rpc.convert(Model, *args, context=ctx)
    with Transaction().set_context(context):
        meth = getattr(Model, method)
        if rpc.instantiate is None or not is_instance_method(Model, method):
            result = rpc.result(meth(*c_args, **c_kwargs))
        else:
            inst = c_args.pop(0)
            if hasattr(inst, method):
                result = rpc.result(meth(inst, *c_args, **c_kwargs))
            else:
                result = [rpc.result(meth(i, *c_args, **c_kwargs)) for i in inst]
    if method in {'search_read', 'read'}:
        fields = args[4] if method == 'search_read' and len(args) > 4 and args[4] else []
        result = _flatten(_booleans(Model, result), fields)
    return result


def _booleans(Model, rows):
    # SQLite hands booleans back as 0/1 and Tryton 6.0 passes them on; Fulfil answers JSON booleans.
    names = [n for n, f in Model._fields.items() if f._type == 'boolean']
    for row in rows:
        for name in names:
            if isinstance(row.get(name), int):
                row[name] = bool(row[name])
    return rows


@app.route(PREFIX, methods=['GET'])
@with_pool
def find(request, pool, model):
    "GET /model/{model}?filter=&page=&per_page=&field=&order= : Fulfil's paged find."
    def action(pool, ctx):
        domain = _loads(request.args.get('filter'), [])
        order = _loads(request.args.get('order'), None)
        per_page = int(request.args.get('per_page', 10))
        page = max(1, int(request.args.get('page', 1)))
        fields = ['id', 'rec_name'] + request.args.getlist('field')
        return _call(pool, ctx, model, 'search_read', [domain, (page - 1) * per_page, per_page, order, fields])
    return _run(request, pool, True, action)


@app.route(PREFIX + '/<int:record_id>', methods=['GET'])
@with_pool
def read(request, pool, model, record_id):
    "GET /model/{model}/{id}: every readable field of one record."
    def action(pool, ctx):
        Model = _model(pool, model)
        fields = [n for n, f in Model._fields.items() if f._type not in {'binary'}]
        rows = _call(pool, ctx, model, 'read', [[record_id], fields])
        if not rows:
            raise _NotFound("Fulfil has no %s %s." % (model, record_id))
        return rows[0]
    return _run(request, pool, True, action)


@app.route(PREFIX, methods=['POST'])
@with_pool
def create(request, pool, model):
    "POST /model/{model} with [records]: 201 and [{id, rec_name}]."
    def action(pool, ctx):
        vlist = _loads(request.get_data(as_text=True))
        if not isinstance(vlist, list) or not all(isinstance(v, dict) for v in vlist):
            raise ValueError("create takes a JSON array of records")
        ids = _call(pool, ctx, model, 'create', [vlist])
        names = _call(pool, ctx, model, 'read', [ids, ['rec_name']])
        return [{'id': r['id'], 'rec_name': r['rec_name']} for r in names]
    return _run(request, pool, False, action, HTTPStatus.CREATED)


@app.route(PREFIX + '/<method>', methods=['PUT'])
@with_pool
def call(request, pool, model, method):
    "PUT /model/{model}/{method} with [positional arguments]."
    def action(pool, ctx):
        args = _loads(request.get_data(as_text=True), [])
        if not isinstance(args, list):
            raise ValueError("method calls take a JSON array of positional arguments")
        return _call(pool, ctx, model, method, args)
    try:
        rpc = pool.get(model).__rpc__.get(method)
    except KeyError:
        rpc = None
    return _run(request, pool, bool(rpc and rpc.readonly), action)


@app.route(PREFIX + '/<int:record_id>/<method>', methods=['PUT'])
@with_pool
def call_on_record(request, pool, model, record_id, method):
    "PUT /model/{model}/{id}/{method} with [positional arguments]: the record list comes first."
    def action(pool, ctx):
        args = _loads(request.get_data(as_text=True), [])
        if not isinstance(args, list):
            raise ValueError("method calls take a JSON array of positional arguments")
        Model = _model(pool, model)
        if not Model.search([('id', '=', record_id)], count=True):
            raise _NotFound("Fulfil has no %s %s." % (model, record_id))
        result = _call(pool, ctx, model, method, [[record_id]] + args)
        # A method called on one record answers for that record, not a one-element list.
        return result[0] if isinstance(result, list) and len(result) == 1 else result
    return _run(request, pool, False, action)
