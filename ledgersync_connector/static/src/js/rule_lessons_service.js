/** Corrections that teach: the server tells the person who corrected a vendor or GL
 * account which rule it created or changed (with Undo), or asks whether to create one
 * (with Create Rule), through the bus ("ledgersync_rule_lessons"). */
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

const MODEL = "ledgersync.transaction";

export const ledgersyncRuleLessonsService = {
    dependencies: ["action", "bus_service", "notification", "orm"],
    start(env, { action, bus_service, notification, orm }) {
        const reload = () => action.doAction({ type: "ir.actions.client", tag: "soft_reload" });

        function showLessons(message, lessonIds) {
            const close = notification.add(message, {
                title: _t("Rule learned"),
                type: "info",
                buttons: [
                    {
                        name: _t("Undo"),
                        primary: true,
                        onClick: async () => {
                            close();
                            await orm.call(MODEL, "action_undo_rule_lessons", [lessonIds]);
                            notification.add(_t("The rule change is undone."), { type: "success" });
                            reload();
                        },
                    },
                ],
            });
        }

        bus_service.subscribe("ledgersync_rule_lessons", ({ message, lesson_ids, ask }) => {
            if (!ask) {
                showLessons(message, lesson_ids);
                reload();
                return;
            }
            const close = notification.add(message, {
                title: _t("Make it a rule?"),
                type: "info",
                buttons: [
                    {
                        name: _t("Create Rule"),
                        primary: true,
                        onClick: async () => {
                            close();
                            // The server then tells what it learned, with Undo.
                            await orm.call(MODEL, "action_learn_rules", [
                                ask.transaction_ids,
                                ask.fields,
                            ]);
                        },
                    },
                ],
            });
        });
    },
};

registry.category("services").add("ledgersync_rule_lessons", ledgersyncRuleLessonsService);
