"""The default playbook: message templates in the tone the public should hear.

Friendly, instructive and helpful: say what is happening, what to do, and where to get
help. Placeholders: {event} {hashtag} {time} {date} {place}. Loaded by migration 0002;
teams add their own templates beside these.
"""

LIBRARY: list[dict[str, str]] = [
    # --- before -------------------------------------------------------------------------
    {"title": "Travel advice", "phase": "before", "event_kind": "", "purpose": "travel",
     "body": "Going to {event} on {date}? Roads around {place} will be busy from early afternoon. "
             "Please plan your journey, use public transport where you can and allow extra time. "
             "Latest travel updates here. {hashtag}"},
    {"title": "What not to bring", "phase": "before", "event_kind": "planned", "purpose": "prohibited_items",
     "body": "Heading to {event}? Please leave glass bottles, flares and fireworks at home: they are not "
             "allowed in, and bags will be checked at the gates. Arriving early helps everyone get in "
             "quickly. {hashtag}"},
    {"title": "Where to get help", "phase": "before", "event_kind": "", "purpose": "help",
     "body": "At {event} today, officers and stewards are there to help. If you get separated from your "
             "group or need help, find anyone in a yellow vest or go to the help point at {place}. "
             "In an emergency call 999. {hashtag}"},
    {"title": "Road closures ahead", "phase": "before", "event_kind": "planned", "purpose": "closures",
     "body": "Some roads near {place} will close from {time} on {date} for {event}. Please follow the "
             "signs and use the marked diversions. Thank you for your patience. {hashtag}"},
    {"title": "Protest: our role", "phase": "before", "event_kind": "protest", "purpose": "facilitation",
     "body": "A protest is planned at {place} from {time} on {date}. We are there to help everyone protest "
             "safely and to keep disruption to others low. If you are taking part, please follow the agreed "
             "route and the advice of officers. {hashtag}"},
    {"title": "Encampment: support available", "phase": "before", "event_kind": "encampment",
     "purpose": "support",
     "body": "Support is available for people staying at {place}. Volunteers and partner organisations are "
             "there every day with information in several languages. If you feel unsafe or need help, please "
             "speak to them or to an officer. In an emergency call 999 or 112."},
    # --- during -------------------------------------------------------------------------
    {"title": "Crowd safety: take care", "phase": "during", "event_kind": "", "purpose": "crowd_safety",
     "body": "It is very busy around {place} right now. Please take your time, keep children close and "
             "follow the directions of stewards and officers. If you feel unwell, tell someone nearby. "
             "{hashtag}"},
    {"title": "Closure now in place", "phase": "during", "event_kind": "", "purpose": "closures",
     "body": "Please avoid the area around {place}: the road is closed for now while we keep people safe. "
             "Use other routes and allow extra time. We will update you when it reopens. {hashtag}"},
    {"title": "Rumour control: not true", "phase": "during", "event_kind": "", "purpose": "rumour",
     "body": "We have seen reports that [describe the rumour]. This is not true. [Say what is actually "
             "happening.] Please check our updates before sharing, and help us stop the rumour. {hashtag}"},
    {"title": "Rumour control: checking", "phase": "during", "event_kind": "", "purpose": "rumour",
     "body": "We have seen reports about [describe the report] near {place}. We are checking and will "
             "update you here as soon as we know more. Please don't share unconfirmed reports. {hashtag}"},
    {"title": "Lost child or person", "phase": "during", "event_kind": "planned", "purpose": "help",
     "body": "If you have lost someone at {event}, go to the nearest steward or the help point at {place}. "
             "Children who are found are looked after there. Please don't post their photos online. {hashtag}"},
    {"title": "Disorder: stay away", "phase": "during", "event_kind": "disorder", "purpose": "crowd_safety",
     "body": "There is disorder near {place}. Please stay away from the area and keep away from any groups. "
             "If you are nearby, move away calmly. If you are in danger, call 999. {hashtag}"},
    {"title": "Protest: route update", "phase": "during", "event_kind": "protest", "purpose": "closures",
     "body": "The march is moving along [route]. Roads on the route will close for a short time as it "
             "passes. Please allow extra time if you are travelling near {place}. {hashtag}"},
    {"title": "Emergency: move now", "phase": "during", "event_kind": "", "purpose": "emergency",
     "body": "Please move away from {place} now, calmly, and follow the directions of officers. "
             "Do not come to the area. If you are hurt or in danger, call 999. {hashtag}"},
    {"title": "Weather: heat or cold", "phase": "during", "event_kind": "", "purpose": "welfare",
     "body": "It is [hot/cold] at {place} today. Please drink water, dress for the weather and look out for "
             "each other. Free water and first aid are at the help point. {hashtag}"},
    # --- after --------------------------------------------------------------------------
    {"title": "Thank you", "phase": "after", "event_kind": "", "purpose": "thanks",
     "body": "Thank you to everyone who came to {event} and helped make it a safe day. Thank you also to "
             "residents for your patience while roads were closed. {hashtag}"},
    {"title": "Appeal for witnesses", "phase": "after", "event_kind": "", "purpose": "appeal",
     "body": "Were you near {place} on {date} around {time}? We would like to hear from anyone who saw what "
             "happened or has video. Please report it online or call 101, quoting the event name. "
             "{hashtag}"},
    {"title": "Where to report", "phase": "after", "event_kind": "", "purpose": "report",
     "body": "If something happened to you at {event}, you can report it online or by calling 101. "
             "In an emergency always call 999. Reports can be made in your own language. {hashtag}"},
    {"title": "Roads reopened", "phase": "after", "event_kind": "", "purpose": "closures",
     "body": "All roads around {place} are open again. Thank you for your patience today. {hashtag}"},
    {"title": "Correction", "phase": "", "event_kind": "", "purpose": "correction",
     "body": "Correction: earlier we said [what was wrong]. In fact, [what is right]. We are sorry for "
             "any confusion. {hashtag}"},
]
