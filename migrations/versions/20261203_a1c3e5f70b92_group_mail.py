"""group mail written in ranges: mailings to any audience, their parts, personal marks on mails

Revision ID: a1c3e5f70b92
Revises: b7c2f4e81d09
Create Date: 2026-12-03 09:00:00

A mailing names an audience (a recipients query) and keeps its context instead of bodies
rendered per language; the bodies move to mailing_parts (one per language, time zone and
variant), which the mails of a mailing point at. Existing mailings (the subscribers'
announcement) become mailings of the audience "subscribers", their bodies parts in UTC.
"""
import html

from alembic import op
import sqlalchemy as sa


revision = 'a1c3e5f70b92'
down_revision = 'b7c2f4e81d09'
branch_labels = None
depends_on = None

NAME_MARK = "__CAPITAL_RECIPIENT_NAME__"
CITY_MARK = "__CAPITAL_CITY_NAME__"
SUBSCRIBERS = "subscribers"

mailings = sa.table(
    'mailings', sa.column('id', sa.Integer), sa.column('dedupe_key', sa.String), sa.column('audience', sa.String),
    sa.column('contents', sa.JSON), sa.column('written_dt', sa.DateTime(timezone=True)))
parts = sa.table(
    'mailing_parts', sa.column('id', sa.Integer), sa.column('mailing_id', sa.Integer), sa.column('locale', sa.String),
    sa.column('timezone', sa.String), sa.column('variant', sa.String), sa.column('is_named', sa.Boolean),
    sa.column('subject', sa.String), sa.column('body_text', sa.Text), sa.column('body_html', sa.Text))
mails = sa.table(
    'mails', sa.column('id', sa.Integer), sa.column('mailing_id', sa.Integer), sa.column('part_id', sa.Integer),
    sa.column('locale', sa.String), sa.column('recipient_name', sa.String), sa.column('city_name', sa.String),
    sa.column('body_text', sa.Text), sa.column('body_html', sa.Text), sa.column('message_id', sa.String))


def upgrade():
    op.create_table('mailing_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('variant', sa.String(length=100), nullable=False),
    sa.Column('is_named', sa.Boolean(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['mailing_id'], ['mailings.id'], name=op.f('fk_mailing_parts_mailing_id_mailings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailing_parts')),
    sa.UniqueConstraint('mailing_id', 'locale', 'timezone', 'variant', 'is_named',
                        name=op.f('uq_mailing_parts_mailing_id_locale_timezone_variant_is_named')),
    )
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.String(length=50), nullable=False, server_default=SUBSCRIBERS))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('subject', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('occasion', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('follows_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_mailings_follows_id_mailings'), 'mailings', ['follows_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.alter_column('next_subscriber_id', new_column_name='next_key')
        batch_op.alter_column('last_subscriber_id', new_column_name='last_key')
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recipient_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('city_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_mails_part_id_mailing_parts'), 'mailing_parts', ['part_id'], ['id'],
                                    ondelete='SET NULL')

    connection = op.get_bind()
    for mailing_id, key, contents in connection.execute(sa.select(mailings.c.id, mailings.c.dedupe_key,
                                                                  mailings.c.contents)).all():
        for locale, content in (contents or {}).items():
            connection.execute(parts.insert().values(
                mailing_id=mailing_id, locale=locale, timezone="UTC", variant="", is_named=False,
                subject=content["subject"], body_text=content["text"], body_html=content["html"]))
        connection.execute(mailings.update().where(mailings.c.id == mailing_id)
                           .values(dedupe_key=f"{key}:{SUBSCRIBERS}"))
    part = (sa.select(parts.c.id).where(parts.c.mailing_id == mails.c.mailing_id, parts.c.locale == mails.c.locale)
            .scalar_subquery())
    connection.execute(mails.update().where(mails.c.mailing_id.is_not(None)).values(part_id=part))

    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.alter_column('audience', server_default=None)
        batch_op.alter_column('params', server_default=None)
        batch_op.alter_column('subject', server_default=None)
        batch_op.alter_column('context', server_default=None)
        batch_op.drop_column('contents')


def downgrade():
    connection = op.get_bind()
    unwritten = connection.execute(sa.select(sa.func.count()).select_from(mailings).where(
        mailings.c.written_dt.is_(None), mailings.c.audience != SUBSCRIBERS)).scalar()
    if unwritten:
        raise RuntimeError(f"{unwritten} group mailing(s) are still being written: let the workers finish first")
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contents', sa.JSON(), nullable=False, server_default='{}'))

    # A group mail gets its own bodies back, with its recipient's name and city put in.
    rows = connection.execute(
        sa.select(mails.c.id, mails.c.recipient_name, mails.c.city_name, parts.c.body_text, parts.c.body_html)
        .join(parts, parts.c.id == mails.c.part_id).join(mailings, mailings.c.id == mails.c.mailing_id)
        .where(mailings.c.audience != SUBSCRIBERS)).all()
    for mail_id, name, city, text, markup in rows:
        connection.execute(mails.update().where(mails.c.id == mail_id).values(
            body_text=text.replace(NAME_MARK, name).replace(CITY_MARK, city),
            body_html=markup.replace(NAME_MARK, html.escape(name)).replace(CITY_MARK, html.escape(city))))
    group = sa.select(mailings.c.id).where(mailings.c.audience != SUBSCRIBERS)
    connection.execute(mails.update().where(mails.c.mailing_id.in_(group)).values(mailing_id=None, part_id=None))
    # A mailing's mails are named by their id when sent; the old schema keeps the name on the row.
    connection.execute(mails.update().where(mails.c.message_id == "").values(
        message_id=sa.literal("<mail-", sa.String) + sa.cast(mails.c.id, sa.String) + sa.literal("@localhost>", sa.String)))
    connection.execute(parts.delete().where(parts.c.mailing_id.in_(group)))
    connection.execute(mailings.delete().where(mailings.c.audience != SUBSCRIBERS))
    for mailing_id, key in connection.execute(sa.select(mailings.c.id, mailings.c.dedupe_key)).all():
        contents = {locale: {"subject": subject, "text": text, "html": markup} for locale, subject, text, markup in
                    connection.execute(sa.select(parts.c.locale, parts.c.subject, parts.c.body_text, parts.c.body_html)
                                       .where(parts.c.mailing_id == mailing_id, parts.c.timezone == "UTC",
                                              parts.c.variant == "", parts.c.is_named.is_(False))).all()}
        connection.execute(mailings.update().where(mailings.c.id == mailing_id).values(
            contents=contents, dedupe_key=key.removesuffix(f":{SUBSCRIBERS}")))

    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_mails_part_id_mailing_parts'), type_='foreignkey')
        batch_op.drop_column('city_name')
        batch_op.drop_column('recipient_name')
        batch_op.drop_column('part_id')
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.alter_column('contents', server_default=None)
        batch_op.alter_column('last_key', new_column_name='last_subscriber_id')
        batch_op.alter_column('next_key', new_column_name='next_subscriber_id')
        batch_op.drop_constraint(batch_op.f('fk_mailings_follows_id_mailings'), type_='foreignkey')
        batch_op.drop_column('follows_id')
        batch_op.drop_column('occasion')
        batch_op.drop_column('context')
        batch_op.drop_column('subject')
        batch_op.drop_column('params')
        batch_op.drop_column('audience')
    op.drop_table('mailing_parts')
