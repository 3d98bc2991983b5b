"""Collisions between workers are kept out of the log in their own thread only.

Odoo's ``mute_logger`` swaps the logger's handlers for the whole process: with two cron
threads, the first to leave its block unmutes the second, whose expected collision then
reaches the log as an ERROR (and fails Odoo's own test runner). These tests run the
interleaving that broke it, on real failing queries logged by Odoo's cursor.
"""

import threading

import psycopg2.errors

from odoo import sql_db
from odoo.tests import TransactionCase, tagged

from ..sync.conflicts import expected_conflicts

# A query that fails as a collision with another transaction does.
COLLISION = "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure'; END $$"
OTHER_FAILURE = "SELECT 1 / 0"


@tagged("post_install", "-at_install")
class TestExpectedConflicts(TransactionCase):
    def failing_query(self, query, error):
        """Run ``query`` on a connection of its own, as a worker does; it must raise."""
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            with self.assertRaises(error):
                cr.execute(query)
            cr.rollback()

    def test_a_collision_is_not_logged_in_the_thread_that_expects_it(self):
        with self.assertLogs("odoo.sql_db", "ERROR") as logs:
            with expected_conflicts():
                self.failing_query(COLLISION, psycopg2.errors.SerializationFailure)
                self.failing_query(OTHER_FAILURE, psycopg2.errors.DivisionByZero)
            self.failing_query(COLLISION, psycopg2.errors.SerializationFailure)
        # The other failure inside the block, and the collision outside it.
        self.assertEqual(len(logs.records), 2)
        self.assertIn("division by zero", logs.output[0])
        self.assertIn("bad query", logs.output[1])
        self.assertIn("serialization_failure", logs.output[1])

    def test_another_thread_leaving_its_block_does_not_unmute_this_one(self):
        """Thread A enters, thread B enters, A leaves, then B's query collides: not logged.
        Meanwhile a thread that expects nothing still logs its collision."""
        a_inside, b_inside, a_left, b_done = (threading.Event() for _ in range(4))
        errors = []

        def thread_a():
            with expected_conflicts():
                a_inside.set()
                b_inside.wait(10)
            a_left.set()

        def thread_b():
            try:
                a_inside.wait(10)
                with expected_conflicts():
                    b_inside.set()
                    a_left.wait(10)
                    self.failing_query(COLLISION, psycopg2.errors.SerializationFailure)
            except Exception as error:  # reported by the main thread
                errors.append(error)
            finally:
                b_done.set()

        with self.assertLogs("odoo.sql_db", "ERROR") as logs:
            threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
            for thread in threads:
                thread.start()
            self.assertTrue(b_done.wait(20), "thread B did not finish")
            self.failing_query(COLLISION, psycopg2.errors.SerializationFailure)
            for thread in threads:
                thread.join(10)
        self.assertFalse(errors)
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertEqual(logs.records[0].thread, threading.get_ident())
